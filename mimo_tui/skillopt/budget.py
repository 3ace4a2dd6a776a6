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
    """Calls, tokens and dollars a run is expected to spend, cache hits left out; `calls_max` if every step
    scores a candidate; `cached` answers already in the run's cache (not counted)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    price_known: bool
    calls_max: int = 0
    cached: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        money = f"${self.usd:.2f}" if self.price_known else "unknown price (model not in the price list)"
        extra = [f"{self.cached} answers already cached"] if self.cached else []
        if self.calls_max > self.calls:
            extra.append(f"at most {self.calls_max} if every step scores a candidate")
        return (f"estimate: ~{self.calls} calls" + (f" ({'; '.join(extra)})" if extra else "")
                + f", {self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion tokens, {money}")


@dataclass(frozen=True)
class RunShape:
    """What decides the cost of what is left of a run."""

    epochs: int  # epochs whose end (slow update, re-scoring) is still to come
    steps: int  # steps still to run
    first_epoch_steps: int  # of which in the first epoch still to come
    from_first_epoch: bool  # whether that epoch is the run's first (where most edits are found)
    train_items: int  # training items those steps roll out
    samples: int
    val_items: int
    test_items: int
    groups_per_step: int
    slow_tasks: int
    skill_tokens: int
    input_tokens: int
    output_tokens: int
    cached: int = 0  # target answers known to be in the cache already
    test_versions: int = 3  # distinct skill versions scored on test (baseline, best, final)
    edits_per_accept: int = 0  # edits in an accepted candidate, each scored for credit on the items it changed
    accepted_this_epoch: bool = False  # the epoch under way has accepted a candidate already
    pending_credit: int = 0  # target answers the credit of steps already accepted still needs (known exactly)
    later_train_items: int = 0  # of train_items, those of epochs after the current one
    test_versions_now: int = 3  # distinct versions among baseline, best and final as the run stands


def expected_candidates(shape: RunShape) -> int:
    """Steps expected to build and score a candidate. A step whose batch all passes, or whose proposals are all
    refused, scores none: on the offline demo about half the steps of the first epoch do, then about one per epoch
    as the skill settles (2 of 3 steps for one epoch, 3 of 24 for three epochs of batch 12). Other optimizers may
    propose more: the estimate also gives the bound for a candidate at every step."""
    first = math.ceil(0.5 * shape.first_epoch_steps) if shape.from_first_epoch else min(1, shape.first_epoch_steps)
    return min(shape.steps, first + max(0, shape.epochs - 1))


def estimate_calls(shape: RunShape, every_step: bool = False) -> tuple[int, int, int, int, int]:
    """(target calls, optimizer calls, target prompt tokens, optimizer prompt tokens, completion tokens) of what is
    left of a run, repeated questions being cache hits: each training item is asked once per epoch; the incumbent is
    scored on validation when the segment starts, after each epoch's slow update and with each candidate; the slow
    update's comparison is mostly answered already (both versions ran on the epoch's batches), except where edits
    were accepted; test asks each distinct version. `every_step`: the bound when every step scores a candidate."""
    k = shape.samples
    candidates = shape.steps if every_step else expected_candidates(shape)
    reflect_groups = shape.groups_per_step if every_step else math.ceil(shape.groups_per_step / 2)
    slow_fresh = shape.epochs * 2 * shape.slow_tasks if every_step else min(1, shape.epochs) * shape.slow_tasks
    # A later epoch asks again only where the skill changed since: an epoch's guidance passes the gate like any edit,
    # and about one step an epoch is accepted, so about half of a later epoch's batches see a new skill.
    train = shape.train_items if every_step else shape.train_items - shape.later_train_items // 2
    target = train * k + (1 + candidates + shape.epochs) * shape.val_items * k + slow_fresh * k
    # credit: each edit of an accepted step left out in turn, scored on the items the step changed (about half);
    # on the offline demo about one step of the first epoch is accepted, and a later epoch's (its guidance passes
    # the gate like any edit) about every other time
    first_accepts = 1 if shape.first_epoch_steps and not shape.accepted_this_epoch else 0
    accepts = candidates if every_step else min(candidates, first_accepts + max(0, shape.epochs - 1) // 2)
    # with no accept to come, best and final stay the versions they are now
    target += (shape.test_versions if accepts else min(shape.test_versions, shape.test_versions_now)) * shape.test_items * k
    if shape.edits_per_accept > 1:
        target += accepts * shape.edits_per_accept * math.ceil(shape.val_items * k / 2)
    target += shape.pending_credit
    target = max(0, target - shape.cached)
    optimizer = candidates * reflect_groups + shape.epochs
    target_prompt = target * (shape.skill_tokens + shape.input_tokens + 30)
    per_group = shape.skill_tokens + 8 * (shape.input_tokens + 2 * shape.output_tokens + 40) + 300
    optimizer_prompt = optimizer * per_group
    completion = target * shape.output_tokens + optimizer * 250
    return target, optimizer, target_prompt, optimizer_prompt, completion
