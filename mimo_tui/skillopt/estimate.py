"""The cost estimate shown before a run starts or resumes: what is left of the run, less the answers already cached."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from mimo_tui.llm import ModelSpec, count_tokens
from mimo_tui.skillopt.budget import CostEstimate, RunShape, estimate_calls
from mimo_tui.skillopt.dataset import Task
from mimo_tui.skillopt.edits import apply_edits, edit_from_record
from mimo_tui.skillopt.prompts import rollout_messages

if TYPE_CHECKING:
    from mimo_tui.skillopt.trainer import Trainer


def cached_answers(trainer: Trainer, skill_text: str, tasks: list[Task]) -> int:
    """How many of the target's answers to `tasks` with `skill_text` are in the run's cache already."""
    params = trainer.config.target_params()
    return sum(1 for task in tasks for k in range(trainer.config.samples)
               if trainer.calls.is_cached(trainer.target, rollout_messages(skill_text, task.input), k, **params))


def remaining_shape(trainer: Trainer) -> RunShape:
    """The shape of what is left of the run (all of it for a new run), with the predictable cache hits counted:
    the incumbent's validation answers, its answers to the next batch, and the first version's test answers."""
    config, state, splits = trainer.config, trainer.state, trainer.splits
    train = splits.train
    sample = train[: min(20, len(train))]
    input_tokens = sum(count_tokens(t.input) for t in sample) // max(1, len(sample))
    incumbent = trainer.run_folder.read_skill_version(state.incumbent_version)
    batches: list[list[Task]] = []
    epochs = 0
    first_epoch_steps = 0
    later = 0
    if state.phase in ("baseline", "steps", "slow"):
        for epoch in range(state.epoch, config.epochs + 1):
            upcoming = trainer._batches(epoch)
            if epoch == state.epoch:
                upcoming = [] if state.phase == "slow" else upcoming[state.next_step :]
            else:
                later += sum(len(b) for b in upcoming)
            batches.extend(upcoming)
            first_epoch_steps = len(upcoming) if epoch == state.epoch else first_epoch_steps
            epochs += 1
    cached = 0
    if state.phase != "done":
        cached += cached_answers(trainer, incumbent, splits.val)
        cached += cached_answers(trainer, trainer.run_folder.read_skill_version(1), splits.test)
        if batches:
            cached += cached_answers(trainer, incumbent, batches[0])
    test_versions = 3 if epochs else len({1, state.best_version, state.incumbent_version})
    return RunShape(
        epochs=epochs, steps=len(batches), first_epoch_steps=first_epoch_steps, from_first_epoch=state.epoch == 1,
        train_items=sum(len(b) for b in batches), samples=config.samples,
        val_items=len(splits.val), test_items=len(splits.test) if state.phase != "done" else 0,
        groups_per_step=math.ceil(min(trainer.batch_size(), len(train)) * config.samples / config.group_size),
        slow_tasks=min(config.slow_tasks, len(train)), skill_tokens=count_tokens(incumbent), input_tokens=input_tokens,
        output_tokens=max(20, input_tokens), cached=cached, test_versions=test_versions,
        edits_per_accept=config.edit_budget,
        later_train_items=later,
        test_versions_now=len({1, state.best_version, state.incumbent_version}),
        accepted_this_epoch=state.phase == "steps" and any(_epoch_of(trainer, a["step"]) == state.epoch for a in state.accepted),
        pending_credit=pending_credit_answers(trainer) if state.phase != "done" else 0,
    )


def pending_credit_answers(trainer: Trainer) -> int:
    """The target answers still to get for the credit of steps already accepted (a stop may have cached some)."""
    config = trainer.config
    tasks = {task.id: task for task in trainer.splits.val}
    needed = 0
    for entry in trainer.state.pending_credit:
        edits = [edit_from_record(e) for e in entry["edits"]]
        previous = trainer.run_folder.read_skill_version(int(entry["previous_version"]))
        for index in range(len(edits)):
            without = apply_edits(previous, [e for i, e in enumerate(edits) if i != index], managed=bool(entry.get("managed"))).text
            for item, scored in entry["items"].items():
                if item in tasks:
                    messages = rollout_messages(without, tasks[item].input)
                    needed += sum(1 for k in scored["indices"]
                                  if not trainer.calls.is_cached(trainer.target, messages, k, **config.target_params(k)))
    return needed


def _epoch_of(trainer: Trainer, step: int) -> int:
    return (step - 1) // max(1, trainer.steps_per_epoch()) + 1


def estimate_run(trainer: Trainer, price: Callable[[ModelSpec, int, int], float | None]) -> CostEstimate:
    """Expected calls, tokens and dollars of what is left of the run, and the bound if every step scores a candidate."""
    shape = remaining_shape(trainer)
    target_calls, optimizer_calls, target_prompt, optimizer_prompt, completion = estimate_calls(shape)
    most_target, most_optimizer, *_ = estimate_calls(shape, every_step=True)
    target_out = target_calls * shape.output_tokens
    usd_target = price(trainer.target, target_prompt, target_out)
    usd_optimizer = price(trainer.optimizer, optimizer_prompt, completion - target_out)
    known = usd_target is not None and usd_optimizer is not None
    return CostEstimate(target_calls + optimizer_calls, target_prompt + optimizer_prompt, completion,
                        round((usd_target or 0.0) + (usd_optimizer or 0.0), 4), known,
                        calls_max=most_target + most_optimizer, cached=shape.cached)


