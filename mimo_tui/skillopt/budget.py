"""Edit-budget schedules, the cap-reached stop and the cost estimate shown before a run (caps: spend.py)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

SCHEDULES = ("constant", "linear", "cosine")


def edit_budget(step_index: int, total_steps: int, start: int = 4, end: int = 2, schedule: str = "cosine") -> int:
    """The number of edits kept at step `step_index` (0-based) of `total_steps`."""
    if schedule == "constant" or total_steps <= 1:
        return max(1, start)
    progress = min(1.0, max(0.0, step_index / (total_steps - 1)))
    if schedule == "linear":
        value = start + (end - start) * progress
    elif schedule == "cosine":
        value = end + (start - end) * (1 + math.cos(math.pi * progress)) / 2
    else:
        raise ValueError(f"unknown edit-budget schedule {schedule!r} (known: {', '.join(SCHEDULES)})")
    return max(1, round(value))


class BudgetExhausted(Exception):
    """A hard cap was reached; the message is the run's stop reason."""


@dataclass(frozen=True)
class CostEstimate:
    """Calls, tokens and dollars a run is expected to spend (upper bound: no cache hits assumed)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    price_known: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        money = f"${self.usd:.2f}" if self.price_known else "unknown price (model not in the price list)"
        return (f"estimate: {self.calls} calls, {self.prompt_tokens:,} prompt + {self.completion_tokens:,} "
                f"completion tokens, {money}")


@dataclass(frozen=True)
class RunShape:
    """What decides a run's cost."""

    epochs: int
    steps_per_epoch: int
    batch: int
    samples: int
    val_items: int
    test_items: int
    groups_per_step: int
    slow_tasks: int
    skill_tokens: int
    input_tokens: int
    output_tokens: int


def estimate_calls(shape: RunShape) -> tuple[int, int, int, int, int]:
    """(target calls, optimizer calls, target prompt tokens, optimizer prompt tokens, completion tokens)."""
    steps = shape.epochs * shape.steps_per_epoch
    target_per_step = shape.batch * shape.samples + shape.val_items * shape.samples
    target = steps * target_per_step + shape.val_items * shape.samples
    target += shape.epochs * (2 * shape.slow_tasks * shape.samples + shape.val_items * shape.samples)
    target += 3 * shape.test_items * shape.samples
    optimizer = steps * shape.groups_per_step + shape.epochs
    target_prompt = target * (shape.skill_tokens + shape.input_tokens + 30)
    per_group = shape.skill_tokens + 8 * (shape.input_tokens + 2 * shape.output_tokens + 40) + 300
    optimizer_prompt = optimizer * per_group
    completion = target * shape.output_tokens + optimizer * 250
    return target, optimizer, target_prompt, optimizer_prompt, completion
