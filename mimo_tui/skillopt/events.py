"""Typed events of a training run, delivered to a subscriber and appended to `events.jsonl`.

Every event is a frozen dataclass; on disk each is one JSON object with `type` (the snake_case
class name), `t` (unix time) and the fields below.

- run_started(run_id, skill, target, optimizer, resumed, config, estimate): the run begins or resumes;
  `estimate` holds calls, prompt_tokens, completion_tokens, usd and whether the price is known.
- epoch_started(epoch, epochs) / epoch_finished(epoch, accepted, rejected).
- step_started(epoch, step, batch_size, edit_budget): `step` counts from 1 over the whole run.
- rollout_progress(stage, done, total, errors): stage is train, val:incumbent, val:candidate,
  slow:before, slow:after, test:<label> or eval:<split>; sent every 5 % and at the end.
- proposals_received(step, group, edits, problem): one optimizer reply for one reflection group;
  `problem` is set (and edits empty) when the reply was malformed and skipped.
- merge_done(step, proposed, merged, conflicts, refused): duplicates merged, edits on the same text
  dropped (`conflicts`), edits copying a grader pattern or hidden reference refused (`refused`).
- selection_done(step, budget, kept, dropped): the top-L edits by support.
- candidate_built(step, applied, skipped, refused, tokens): the edit-apply report; `skipped` are
  missing targets, `refused` hit the protected block, front matter or the token range.
- gate_decided(step, action, incumbent, candidate, coverage, flips, items, reason, evidence): action
  is accept, reject or undecided; flips counts improved/regressed/still_failing/stable; `items` maps
  item id to its flip; `evidence` holds improved, regressed, items, paired_samples, p_value, alpha
  and the rounds of more samples on unsettled items (see gate_runner.py).
- skill_accepted(step, version, val_before, val_after, commit): a new incumbent, committed.
- edits_rejected(step, edits, delta): fed back to the optimizer for the rest of the epoch.
- slow_update(epoch, guidance, version, compared): the protected guidance block was rewritten.
- step_finished(step, action, seconds, record): the per-step record also written to steps/; an
  accepted step of several edits has `credit_pending: true` until its credit_scored event.
- credit_scored(step, version, credit): per edit of an accepted step of several edits, the validation
  items it fixed and broke (each edit left out in turn, paired). Scored once the run's steps are done,
  before the test (it decides nothing, so it does not delay the next step); the step record is rewritten
  with `credit`. A stop before it leaves it pending in runtime_state.json, and a resume does it.
- budget(calls, cache_hits, prompt_tokens, completion_tokens, usd, max_calls, max_usd).
- test_scored(label, version, score, coverage): baseline, best or final on the test split.
- error(stage, message): something went wrong but the run goes on (or the run_finished follows).
- run_finished(stop_reason, summary): the last event; `summary` is summary.json's content.
- hand_candidate_judged(ident, kind, after_step, action, incumbent, candidate, items, reason, version): a candidate
  a user gave the run (kind "edited": a SKILL.md text, "feedback": notes for the optimizer; see steering.py) went
  through the gate after step `after_step`; `version` is set when it was accepted (after its skill_accepted).

stop_reason is "finished", "stopped by the user", "call cap reached (N calls)", "dollar cap
reached ($X)", or why the run aborted (target failing every validation task, skill file edited
outside the run). A resumed run appends to the same file, starting with run_started(resumed=True);
a step cut short by a stop is redone, so its step_started (and its proposals) can appear twice;
step_finished appears once per step.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    skill: str
    target: str
    optimizer: str
    resumed: bool
    config: dict[str, Any]
    estimate: dict[str, Any]


@dataclass(frozen=True)
class EpochStarted:
    epoch: int
    epochs: int


@dataclass(frozen=True)
class EpochFinished:
    epoch: int
    accepted: int
    rejected: int


@dataclass(frozen=True)
class StepStarted:
    epoch: int
    step: int
    batch_size: int
    edit_budget: int


@dataclass(frozen=True)
class RolloutProgress:
    stage: str
    done: int
    total: int
    errors: int


@dataclass(frozen=True)
class ProposalsReceived:
    step: int
    group: int
    edits: list[dict[str, Any]]
    problem: str | None = None


@dataclass(frozen=True)
class MergeDone:
    step: int
    proposed: int
    merged: int
    conflicts: list[dict[str, Any]]
    refused: list[dict[str, Any]]


@dataclass(frozen=True)
class SelectionDone:
    step: int
    budget: int
    kept: list[dict[str, Any]]
    dropped: list[dict[str, Any]]


@dataclass(frozen=True)
class CandidateBuilt:
    step: int
    applied: list[dict[str, Any]]
    skipped: list[dict[str, Any]]
    refused: list[dict[str, Any]]
    tokens: int


@dataclass(frozen=True)
class GateDecided:
    step: int
    action: str
    incumbent: float | None
    candidate: float | None
    coverage: float
    flips: dict[str, int]
    items: dict[str, str]
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SkillAccepted:
    step: int
    version: int
    val_before: float
    val_after: float
    commit: str | None


@dataclass(frozen=True)
class EditsRejected:
    step: int
    edits: list[dict[str, Any]]
    delta: float | None


@dataclass(frozen=True)
class SlowUpdate:
    epoch: int
    guidance: str
    version: int
    compared: dict[str, int]
    # The guidance is a candidate like any edit: the gate's decision on it, and why (older runs: accepted unseen).
    action: str = "accept"
    reason: str = ""
    val_before: float | None = None
    val_after: float | None = None


@dataclass(frozen=True)
class StepFinished:
    step: int
    action: str
    seconds: float
    record: dict[str, Any]


@dataclass(frozen=True)
class CreditScored:
    step: int
    version: int
    credit: list[dict[str, Any]]


@dataclass(frozen=True)
class BudgetUpdate:
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    usd: float
    max_calls: int | None
    max_usd: float | None


@dataclass(frozen=True)
class TestScored:
    label: str
    version: int
    score: float | None
    coverage: float


@dataclass(frozen=True)
class ErrorRaised:
    stage: str
    message: str


@dataclass(frozen=True)
class RunFinished:
    stop_reason: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HandCandidateJudged:
    ident: str
    kind: str
    after_step: int
    action: str
    incumbent: float | None
    candidate: float | None
    items: dict[str, str]
    reason: str
    version: int | None = None


TrainerEvent = (
    RunStarted | EpochStarted | EpochFinished | StepStarted | RolloutProgress | ProposalsReceived | MergeDone
    | SelectionDone | CandidateBuilt | GateDecided | SkillAccepted | EditsRejected | SlowUpdate | StepFinished
    | CreditScored | BudgetUpdate | TestScored | ErrorRaised | RunFinished | HandCandidateJudged
)
EventSubscriber = Callable[[Any], None]

_TYPE_NAMES = {
    ErrorRaised: "error",
    BudgetUpdate: "budget",
}
EVENT_CLASSES: tuple[type, ...] = (
    RunStarted, EpochStarted, EpochFinished, StepStarted, RolloutProgress, ProposalsReceived, MergeDone,
    SelectionDone, CandidateBuilt, GateDecided, SkillAccepted, EditsRejected, SlowUpdate, StepFinished,
    CreditScored, BudgetUpdate, TestScored, ErrorRaised, RunFinished, HandCandidateJudged,
)


def event_type(cls: type) -> str:
    """The snake_case name an event class has on disk."""
    return _TYPE_NAMES.get(cls) or re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


_BY_TYPE = {event_type(cls): cls for cls in EVENT_CLASSES}
EVENT_TYPES = _BY_TYPE  # on-disk type name -> event class


def event_to_dict(event: Any, now: float | None = None) -> dict[str, Any]:
    """The JSON object of one event."""
    return {"type": event_type(type(event)), "t": round(now if now is not None else time.time(), 3), **asdict(event)}


def event_from_dict(data: dict[str, Any]) -> Any | None:
    """Rebuild an event from its JSON object; None for an unknown type."""
    cls = _BY_TYPE.get(str(data.get("type")))
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})
