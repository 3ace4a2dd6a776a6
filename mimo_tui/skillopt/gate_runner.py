"""One step's gate, run: incumbent and candidate scored in the same step on the same items and sample indices,
more samples on the unsettled items while the gain is within the noise, and each edit's credit by ablation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.dataset import Task
from mimo_tui.skillopt.edits import Edit, apply_edits, edit_from_record
from mimo_tui.skillopt.gate import GateDecision, evaluate_gate

# item id -> one score per sample index (None: the rollout errored)
Scores = dict[str, list[float | None]]
# score(skill_text, tasks, sample indices per task id, stage) -> scores aligned with those indices
Scorer = Callable[[str, list[Task], dict[str, list[int]], str], Awaitable[Scores]]
CHANGED = ("improved", "regressed")


@dataclass
class GateOutcome:
    """The decision, the paired scores it rests on (aligned with `indices`) and each round of more samples."""

    decision: GateDecision
    incumbent: Scores
    candidate: Scores
    indices: dict[str, list[int]]
    rounds: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return self.decision.evidence() | {"rounds": self.rounds}


def _more_samples(config: TrainConfig, decision: GateDecision) -> bool:
    if decision.action == "accept" or not decision.more_samples_help:
        return False
    return config.gate_more_if == "any" or (decision.delta or 0.0) > 0


def _decide(config: TrainConfig, incumbent: Scores, candidate: Scores) -> GateDecision:
    return evaluate_gate(incumbent, candidate, config.margin, config.no_regression, config.min_coverage, config.alpha)


async def paired_gate(score: Scorer, incumbent_text: str, candidate_text: str, tasks: list[Task],
                      config: TrainConfig) -> GateOutcome:
    """Score both skills on the same samples (the incumbent's come from the cache where it is unchanged) and
    decide; while the gain is within the noise, add samples (fresh draws, see TrainConfig.target_params) to the
    flipped items, and by default to those both failed, up to config.gate_rounds."""
    indices = {task.id: list(range(config.samples)) for task in tasks}
    incumbent = await score(incumbent_text, tasks, indices, "val:incumbent")
    candidate = await score(candidate_text, tasks, indices, "val:candidate")
    decision = _decide(config, incumbent, candidate)
    rounds: list[dict[str, Any]] = []
    while _more_samples(config, decision) and len(rounds) < config.gate_rounds:
        resampled = CHANGED + (("still_failing",) if config.gate_resample == "unsettled" else ())
        unsettled = [task for task in tasks if decision.flips.get(task.id) in resampled]
        more = {t.id: list(range(len(indices[t.id]), len(indices[t.id]) + config.gate_extra_samples)) for t in unsettled}
        inc_more = await score(incumbent_text, unsettled, more, "val:incumbent+")
        cand_more = await score(candidate_text, unsettled, more, "val:candidate+")
        for task in unsettled:
            indices[task.id] += more[task.id]
            incumbent[task.id] += inc_more[task.id]
            candidate[task.id] += cand_more[task.id]
        before = decision.p_value
        decision = _decide(config, incumbent, candidate)
        rounds.append({"items": len(unsettled), "samples_added": config.gate_extra_samples, "p_before": before,
                       "p_after": decision.p_value, "action": decision.action})
    if decision.action != "accept" and decision.more_samples_help and rounds:
        decision = GateDecision(decision.action, decision.flips,
                                decision.reason + f" after {len(rounds)} round(s) of more samples on the unsettled items",
                                decision.incumbent, decision.candidate, decision.coverage, decision.counts,
                                decision.p_value, decision.samples, decision.alpha, decision.more_samples_help)
    return GateOutcome(decision, incumbent, candidate, indices, rounds)


def _item_mean(samples: list[float | None]) -> float | None:
    values = [v for v in samples if v is not None]
    return sum(values) / len(values) if values else None


def pending_credit(step: int, version: int, previous_version: int, edits: list[Edit], outcome: GateOutcome,
                   managed: bool = False) -> dict[str, Any]:
    """What the credit of an accepted step of several edits needs later (kept in the run state, so a resumed run
    still does it): the two versions, the edits, and the items the step changed with their sample indices and the
    candidate's scores on them."""
    changed = sorted(item for item, flip in outcome.decision.flips.items() if flip in CHANGED)
    return {"step": step, "version": version, "previous_version": previous_version, "managed": managed,
            "edits": [edit.to_dict() for edit in edits],
            "items": {item: {"indices": list(outcome.indices[item]), "candidate": list(outcome.candidate[item])}
                      for item in changed}}


async def edit_credit(score: Scorer, incumbent_text: str, pending: dict[str, Any], tasks: list[Task]) -> list[dict[str, Any]]:
    """Leave each edit of an accepted step out in turn and score that skill on the items the step changed, on the
    same samples; the items that get worse without the edit are the ones it fixed, those that get better are the
    ones it broke. Scored after the run's steps (see Trainer._settle_credit): it decides nothing, so it waits."""
    items: dict[str, dict[str, Any]] = pending["items"]
    changed = [t for t in tasks if t.id in items]
    indices = {t.id: list(items[t.id]["indices"]) for t in changed}
    edits = [edit_from_record(e) for e in pending["edits"]]
    credit = []
    for index, edit in enumerate(edits):
        without = apply_edits(incumbent_text, [e for i, e in enumerate(edits) if i != index],
                              managed=bool(pending.get("managed"))).text
        fixed: list[str] = []
        broke: list[str] = []
        if changed:
            ablated = await score(without, changed, indices, "val:credit")
            for task in changed:
                kept, left_out = _item_mean(items[task.id]["candidate"]), _item_mean(ablated[task.id])
                if kept is None or left_out is None:
                    continue
                if kept > left_out + 1e-12:
                    fixed.append(task.id)
                elif kept < left_out - 1e-12:
                    broke.append(task.id)
        credit.append({"op": edit.op, "target": edit.target, "text": edit.text, "file": edit.file, "fixed": fixed, "broke": broke})
    return credit
