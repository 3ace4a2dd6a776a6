"""What each rollout of a step gave: `steps/step_NNNN/rollouts.jsonl`, one line per task and sample.

The gate's events say which validation items flipped; this log says what the target answered on them (and on the
training batch), so the dashboard can show input, expected and output per item. Appended per rollout stage;
a step redone after a resume appends again, and a reader keeps the last line per (stage, item, sample).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROLLOUTS_FILE = "rollouts.jsonl"
# An answer longer than this is cut in the log (the dashboard shows a few lines of it).
MAX_TEXT = 4000
_lock = threading.Lock()


def rollouts_path(run_dir: Path, step: int) -> Path:
    return run_dir / "steps" / f"step_{step:04d}" / ROLLOUTS_FILE


def expected_text(grader: dict[str, Any]) -> str:
    """What a grader expects, as a user reads it: the reference answer, else the kind of check."""
    reference = grader.get("reference")
    if reference is not None:
        return reference if isinstance(reference, str) else json.dumps(reference, ensure_ascii=False)
    kind = str(grader.get("type", "?"))
    detail = grader.get("pattern") or grader.get("rubric") or grader.get("fields") or grader.get("function") or ""
    return f"({kind} grader{': ' + str(detail) if detail else ''})"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def record_step_rollouts(run_dir: Path, step: int | None, stage: str, tasks: Sequence[Any],
                         plan: dict[str, list[int]], results: Sequence[Any]) -> None:
    """The trainer's hook: `results` are aligned with tasks x plan[task.id]; nothing is written outside a step."""
    if step is None:
        return
    pairs = [(task, k) for task in tasks for k in plan[task.id]]
    record_rollouts(run_dir, step, stage, [(task, k, result) for (task, k), result in zip(pairs, results)])


def record_rollouts(run_dir: Path, step: int, stage: str, rows: Sequence[tuple[Any, int, Any]]) -> None:
    """Append one line per (task, sample index, trajectory or None when the rollout errored)."""
    lines = []
    for task, sample, trajectory in rows:
        line: dict[str, Any] = {"stage": stage, "item": task.id, "sample": sample, "input": _cut(task.input),
                                "expected": _cut(expected_text(task.grader))}
        if trajectory is None:
            line |= {"output": None, "score": None, "passed": None, "error": True}
        else:
            line |= {"output": _cut(trajectory.output), "score": trajectory.score, "passed": trajectory.passed,
                     "feedback": _cut(trajectory.feedback)}
        lines.append(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    path = rollouts_path(run_dir, step)
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("".join(lines))


def read_rollouts(run_dir: Path, step: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The step's rollout lines (the last per stage, item and sample) and problems with the file."""
    path = rollouts_path(run_dir, step)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [f"step {step} has no {ROLLOUTS_FILE}: outputs were not recorded by the trainer of this run"]
    except OSError as exc:
        return [], [f"cannot read {path}: {exc}"]
    latest: dict[tuple[str, str, int], dict[str, Any]] = {}
    problems = []
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            latest[(str(line["stage"]), str(line["item"]), int(line["sample"]))] = line
        except (ValueError, KeyError, TypeError):
            problems.append(f"{path.name} of step {step}, line {number}: not a rollout record, skipped")
    return list(latest.values()), problems
