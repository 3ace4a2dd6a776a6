"""Why a step made no edit, in one line for the progress output and the step record."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from mimo_tui.skillopt.prompts import Trajectory


def no_edit_reason(
    trajectories: Sequence[Trajectory], proposed: int, problems: Sequence[str], refused: Sequence[dict[str, Any]],
    reports: Sequence[dict[str, Any]],
) -> str:
    """nothing to fix, nothing proposed, or all refused (with the most frequent reason)."""
    if not trajectories:
        return "no training rollout was scored (every one errored)"
    failing = sum(1 for t in trajectories if not t.passed)
    if failing == 0:
        return f"nothing to fix: all {len(trajectories)} training rollouts passed"
    if proposed == 0:
        why = f" ({problems[0]})" if problems else ""
        return f"nothing proposed: the optimizer suggested no edit for {failing} failing rollout(s){why}"
    reasons = Counter(str(r.get("reason") or r.get("status") or "refused") for r in [*refused, *reports]
                      if r.get("status") != "applied")
    if not reasons:
        return f"all {proposed} distinct proposed edit(s) were dropped"
    top, count = reasons.most_common(1)[0]
    return f"all {proposed} distinct proposed edit(s) refused; top reason: {top} ({count} of {sum(reasons.values())})"
