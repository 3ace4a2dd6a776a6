"""The paired validation gate: candidate and incumbent compared on the same items and samples."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

FLIPS = ("improved", "regressed", "still_failing", "stable")
PASS_SCORE = 1.0 - 1e-9

# item id -> one score per sample; None marks an errored rollout (missing data, not a zero)
ItemScores = Mapping[str, Sequence[float | None]]


@dataclass(frozen=True)
class GateDecision:
    """accept, reject or undecided; per-item flips; paired means over the scored samples; why."""

    action: str
    flips: dict[str, str]
    reason: str
    incumbent: float | None = None
    candidate: float | None = None
    coverage: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def delta(self) -> float | None:
        if self.incumbent is None or self.candidate is None:
            return None
        return self.candidate - self.incumbent


def _flip(inc: float, cand: float) -> str:
    if cand > inc + 1e-12:
        return "improved"
    if cand < inc - 1e-12:
        return "regressed"
    return "stable" if inc >= PASS_SCORE else "still_failing"


def evaluate_gate(
    incumbent_scores: ItemScores,
    candidate_scores: ItemScores,
    margin: float = 0.0,
    no_regression: bool = False,
    min_coverage: float = 0.8,
) -> GateDecision:
    """Decide on a candidate from paired per-item, per-sample scores; ties are rejected."""
    items = sorted(set(incumbent_scores) | set(candidate_scores))
    expected = 0
    paired = 0
    inc_total = 0.0
    cand_total = 0.0
    flips: dict[str, str] = {}
    for item in items:
        inc_samples = list(incumbent_scores.get(item, ()))
        cand_samples = list(candidate_scores.get(item, ()))
        expected += max(len(inc_samples), len(cand_samples))
        pairs = [(a, b) for a, b in zip(inc_samples, cand_samples) if a is not None and b is not None]
        if not pairs:
            continue
        paired += len(pairs)
        inc_mean = sum(a for a, _ in pairs) / len(pairs)
        cand_mean = sum(b for _, b in pairs) / len(pairs)
        inc_total += sum(a for a, _ in pairs)
        cand_total += sum(b for _, b in pairs)
        flips[item] = _flip(inc_mean, cand_mean)
    counts = {name: sum(1 for f in flips.values() if f == name) for name in FLIPS}
    coverage = paired / expected if expected else 0.0
    if paired == 0 or coverage < min_coverage:
        return GateDecision("undecided", flips, f"only {coverage:.0%} of the validation samples were scored "
                            f"(need {min_coverage:.0%})", None, None, coverage, counts)
    inc = inc_total / paired
    cand = cand_total / paired
    if no_regression and counts["regressed"]:
        return GateDecision("reject", flips, f"{counts['regressed']} item(s) regressed (no-regression rule)",
                            inc, cand, coverage, counts)
    if cand > inc + margin + 1e-12:
        return GateDecision("accept", flips, f"validation {inc:.3f} -> {cand:.3f} (+{cand - inc:.3f}, "
                            f"{counts['improved']} improved, {counts['regressed']} regressed)", inc, cand, coverage, counts)
    if abs(cand - inc) <= 1e-12:
        why = "tie: no better than the current skill"
    elif cand < inc:
        why = f"worse: validation {inc:.3f} -> {cand:.3f}"
    else:
        why = f"gain {cand - inc:.3f} is not above the margin {margin:.3f}"
    return GateDecision("reject", flips, why, inc, cand, coverage, counts)
