"""The per-item table of one step: what each validation item did between incumbent and candidate (improved,
regressed, still failing, stable) and how each training item of the batch went, with input, expected and output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.rollout_log import read_rollouts

FLIP_CLASSES = ("improved", "regressed", "still_failing", "stable")
TRAIN_CLASSES = ("train_failed", "train_passed")


@dataclass(frozen=True)
class FlipRow:
    """One item of a step; `before` is the incumbent's answer, `after` the candidate's (validation only)."""

    item: str
    split: str  # "val" or "train"
    flip: str  # one of FLIP_CLASSES, or train_failed / train_passed
    input: str
    expected: str
    before: str | None
    after: str | None
    score_before: float | None
    score_after: float | None


@dataclass
class StepItems:
    step: int
    rows: list[FlipRow]
    problems: list[str]

    def of_class(self, flip: str | None) -> list[FlipRow]:
        """Rows of one class ("train" for every training item), or all of them for None."""
        if flip is None:
            return list(self.rows)
        if flip == "train":
            return [r for r in self.rows if r.split == "train"]
        return [r for r in self.rows if r.flip == flip]

    def counts(self) -> dict[str, int]:
        counts = {name: 0 for name in (*FLIP_CLASSES, *TRAIN_CLASSES)}
        for row in self.rows:
            counts[row.flip] = counts.get(row.flip, 0) + 1
        return counts


def _mean(lines: list[dict[str, Any]]) -> float | None:
    scores = [line["score"] for line in lines if isinstance(line.get("score"), (int, float))]
    return sum(scores) / len(scores) if scores else None


def _first(lines: list[dict[str, Any]], key: str) -> Any:
    ordered = sorted(lines, key=lambda line: int(line.get("sample", 0)))
    return next((line.get(key) for line in ordered if line.get(key) is not None), None)


def step_items(run_dir: Path, step: int, flips: dict[str, str]) -> StepItems:
    """The step's rows: validation items in the order of `flips` (the gate's item -> class), then training items."""
    lines, problems = read_rollouts(run_dir, step)
    by_stage: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for line in lines:
        stage = str(line["stage"]).rstrip("+")
        by_stage.setdefault((stage, str(line["item"])), []).append(line)
    rows = []
    for item, flip in flips.items():
        before, after = by_stage.get(("val:incumbent", item), []), by_stage.get(("val:candidate", item), [])
        both = before + after
        rows.append(FlipRow(item, "val", flip, str(_first(both, "input") or ""), str(_first(both, "expected") or ""),
                            _first(before, "output"), _first(after, "output"), _mean(before), _mean(after)))
    for (stage, item), group in by_stage.items():
        if stage != "train":
            continue
        passed = any(line.get("passed") for line in group)
        rows.append(FlipRow(item, "train", "train_passed" if passed else "train_failed", str(_first(group, "input") or ""),
                            str(_first(group, "expected") or ""), _first(group, "output"), None, _mean(group), None))
    return StepItems(step, rows, problems)
