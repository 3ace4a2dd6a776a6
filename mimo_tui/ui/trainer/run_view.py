"""What the dashboard shows of one run, folded from its typed events (plus summary.json and the skill diff)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mimo_tui.skillopt.events as ev
from mimo_tui.skillopt.events import event_type


@dataclass
class StepRow:
    """One finished step as the step table shows it."""

    step: int
    epoch: int
    action: str
    val_before: float | None
    val_after: float | None
    improved: int
    regressed: int
    applied: int
    skipped: int
    refused: int
    seconds: float | None
    reason: str = ""  # the gate's reason, or why the step made no edit

    @property
    def label(self) -> str:
        """The action as the step table shows it: a step without an edit says why in a few words."""
        return no_edit_kind(self.reason) if self.action == "no_edits" and self.reason else self.action


def no_edit_kind(reason: str) -> str:
    """A word or two (as narrow as the other actions, so the step table fits its pane) for one of
    skillopt/step_report.no_edit_reason's sentences; the full sentence is shown under the edits."""
    if reason.startswith("nothing to fix"):
        return "all pass"
    if reason.startswith("nothing proposed"):
        return "no ideas"
    if reason.startswith("all "):
        return "refused" if "refused" in reason else "dropped"
    if reason.startswith("no training rollout"):
        return "errored"
    return "no_edits"


@dataclass
class EditsSeen:
    """The edits of one accepted or rejected step."""

    step: int
    edits: list[dict[str, Any]]
    val_before: float | None = None
    val_after: float | None = None
    version: int | None = None
    commit: str | None = None
    # per edit (same order as `edits`) the validation items it fixed and broke, for steps of several edits
    credit: list[dict[str, Any]] | None = None


@dataclass
class Candidate:
    """One candidate skill of the run: a version (baseline, accepted, slow update) or a step's turned-down candidate."""

    version: int | None
    parent: int | None
    step: int
    status: str  # baseline, accepted, rejected, undecided, slow update
    score: float | None
    by_hand: str = ""  # "edited" or "feedback" for a candidate a user gave the run

    @property
    def label(self) -> str:
        if self.version is not None:
            return f"v{self.version:04d}"
        if self.by_hand:
            return f"hand @{self.step}"
        return f"slow @{self.step}" if self.status.startswith("slow update") else f"step {self.step}"


@dataclass
class RunView:
    """A run's state for display; `apply` folds typed events in order and never raises on odd data."""

    run_id: str
    skill: str = "?"
    target: str = "?"
    optimizer: str = "?"
    epoch: int = 0
    epochs: int = 0
    step: int = 0
    batch_size: int = 0
    edit_budget: int = 0
    segments: int = 0
    stage: tuple[str, int, int, int] | None = None
    baseline_val: float | None = None
    steps: dict[int, StepRow] = field(default_factory=dict)
    applied_by_step: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # per accepted step of several edits: each edit's fixed and broken validation items (credit_scored)
    credit_by_step: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    # per gated step: validation item id -> improved, regressed, still_failing or stable
    items_by_step: dict[int, dict[str, str]] = field(default_factory=dict)
    lineage: list[Candidate] = field(default_factory=list)
    credit_pending: list[int] = field(default_factory=list)
    incumbent_version: int = 1
    last_accepted: EditsSeen | None = None
    last_rejected: EditsSeen | None = None
    last_no_edit: StepRow | None = None
    best_version: int = 1
    final_version: int = 1
    test: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    finished: bool = False
    stop_reason: str | None = None
    summary: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)
    diff: str = ""
    events_seen: int = 0

    def apply(self, line_no: int, event: Any) -> None:
        """Fold one typed event in (unknown kinds are skipped); odd values become a problem line, not an exception."""
        self.events_seen += 1
        if event is None:
            return
        handler = getattr(self, f"_on_{event_type(type(event))}", None)
        if handler is None:
            return
        try:
            handler(event)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.problems.append(f"event log line {line_no}: {event_type(type(event))} event is malformed "
                                 f"({type(exc).__name__}: {exc})")

    def use_summary(self, summary: dict[str, Any]) -> None:
        """summary.json is the final word on the test report, spend and stop reason."""
        self.summary = summary
        self.finished = True
        self.stop_reason = summary.get("stop_reason", self.stop_reason)
        for label, entry in (summary.get("test") or {}).items():
            if isinstance(entry, dict):
                self.test[label] = entry
        best = ((summary.get("val") or {}).get("best") or {}).get("version")
        if isinstance(best, int):
            self.best_version = best

    # -- status ---------------------------------------------------------------------------------
    @property
    def status(self) -> str:
        if not self.finished:
            return "running"
        return "finished" if self.stop_reason == "finished" else "stopped"

    @property
    def versions(self) -> list[int]:
        return sorted({c.version for c in self.lineage if c.version is not None} | {1})

    @property
    def val_series(self) -> list[float]:
        """The incumbent's validation score: at the start, then after every finished step."""
        values = [] if self.baseline_val is None else [self.baseline_val]
        current = self.baseline_val
        for number in sorted(self.steps):
            row = self.steps[number]
            if row.action == "accept" and row.val_after is not None:
                current = row.val_after
            elif current is None and row.val_before is not None:
                current = row.val_before
            if current is not None:
                values.append(current)
        return values

    # -- lineage --------------------------------------------------------------------------------
    def _candidate(self, candidate: Candidate) -> None:
        """Add or (for a step redone after a resume) replace a candidate."""
        for number, seen in enumerate(self.lineage):
            same = seen.version == candidate.version if candidate.version is not None else (
                seen.version is None and seen.step == candidate.step and seen.by_hand == candidate.by_hand
                and seen.status.startswith("slow update") == candidate.status.startswith("slow update"))
            if same:
                self.lineage[number] = candidate
                return
        self.lineage.append(candidate)

    def _set_baseline(self, score: float | None) -> None:
        if self.baseline_val is None and score is not None:
            self.baseline_val = score
        if self.lineage and self.lineage[0].version == 1 and self.lineage[0].score is None:
            self.lineage[0].score = self.baseline_val

    # -- events ---------------------------------------------------------------------------------
    def _on_run_started(self, event: ev.RunStarted) -> None:
        self.segments += 1
        self.skill = str(event.skill)
        self.target = str(event.target)
        self.optimizer = str(event.optimizer)
        if self.stop_reason == "finished":  # a finished run reopened judges hand candidates against its best version
            self.incumbent_version = self.best_version
        self.finished = False
        self.stop_reason = None
        if not self.lineage:
            self.lineage.append(Candidate(1, None, 0, "baseline", self.baseline_val))

    def _on_epoch_started(self, event: ev.EpochStarted) -> None:
        self.epoch, self.epochs = int(event.epoch), int(event.epochs)

    def _on_step_started(self, event: ev.StepStarted) -> None:
        self.step = int(event.step)
        self.epoch = int(event.epoch)
        self.batch_size = int(event.batch_size)
        self.edit_budget = int(event.edit_budget)

    def _on_rollout_progress(self, event: ev.RolloutProgress) -> None:
        self.stage = (str(event.stage), int(event.done), int(event.total), int(event.errors))

    def _on_candidate_built(self, event: ev.CandidateBuilt) -> None:
        self.applied_by_step[int(event.step)] = list(event.applied)

    def _on_gate_decided(self, event: ev.GateDecided) -> None:
        step = int(event.step)
        if not self.steps:
            self._set_baseline(_number(event.incumbent))
        self.items_by_step[step] = {str(k): str(v) for k, v in dict(event.items).items()}
        if event.action != "accept":
            status = "rejected" if event.action == "reject" else str(event.action)
            self._candidate(Candidate(None, self.incumbent_version, step, status, _number(event.candidate)))

    def _on_skill_accepted(self, event: ev.SkillAccepted) -> None:
        step, version = int(event.step), int(event.version)
        self._candidate(Candidate(version, self.incumbent_version, step, "accepted", float(event.val_after)))
        self.incumbent_version = self.best_version = self.final_version = version
        self.last_accepted = EditsSeen(step, self.applied_by_step.get(step, []), float(event.val_before),
                                       float(event.val_after), version, event.commit, self.credit_by_step.get(step))

    def _on_credit_scored(self, event: ev.CreditScored) -> None:
        step = int(event.step)
        self.credit_by_step[step] = list(event.credit)
        if step in self.credit_pending:
            self.credit_pending.remove(step)
        if self.last_accepted is not None and self.last_accepted.step == step:
            self.last_accepted.credit = self.credit_by_step[step]

    def _on_edits_rejected(self, event: ev.EditsRejected) -> None:
        self.last_rejected = EditsSeen(int(event.step), list(event.edits), val_after=_number(event.delta))

    def _on_slow_update(self, event: ev.SlowUpdate) -> None:
        # Runs that gate the guidance say so (action, val_after); older ones accepted every guidance unseen.
        action, score = str(getattr(event, "action", "accept")), _number(getattr(event, "val_after", None))
        if action != "accept":
            status = "slow update rejected" if action == "reject" else f"slow update {action}"
            self._candidate(Candidate(None, self.incumbent_version, self.step, status, score))
            return
        version = int(event.version)
        self._candidate(Candidate(version, self.incumbent_version, self.step, "slow update", score))
        self.incumbent_version = self.final_version = version

    def _on_hand_candidate_judged(self, event: ev.HandCandidateJudged) -> None:
        if event.version is not None:
            for candidate in self.lineage:
                if candidate.version == event.version:
                    candidate.by_hand = str(event.kind)
            accepted = self.last_accepted
            if accepted is not None and accepted.version == event.version:
                # Not the optimizer's edits of that step (those may have been rejected): a text given by hand.
                accepted.edits = [{"op": f"by hand ({event.kind})", "text": "a candidate given by the user"}]
                accepted.credit = None
            return
        status = "rejected" if event.action == "reject" else str(event.action)
        self._candidate(Candidate(None, self.incumbent_version, int(event.after_step), status,
                                  _number(event.candidate), str(event.kind)))

    def _on_step_finished(self, event: ev.StepFinished) -> None:
        record = dict(event.record)
        flips = record.get("flips") or {}
        row = StepRow(
            step=int(event.step), epoch=int(record.get("epoch", self.epoch)), action=str(event.action),
            val_before=_number(record.get("val_before")), val_after=_number(record.get("val_after")),
            improved=int(flips.get("improved", 0)), regressed=int(flips.get("regressed", 0)),
            applied=int(record.get("applied", 0)), skipped=int(record.get("skipped", 0)), refused=int(record.get("refused", 0)),
            seconds=_number(event.seconds),
            reason=str(record.get("gate_reason") or record.get("no_edit_reason") or ""),
        )
        if row.action == "no_edits":
            self.last_no_edit = row
        if not self.steps:
            self._set_baseline(row.val_before)
        if record.get("credit_pending") and row.step not in self.credit_by_step and row.step not in self.credit_pending:
            self.credit_pending.append(row.step)
        if record.get("credit"):  # runs made before credit had its own event
            self._on_credit_scored(ev.CreditScored(row.step, int(record.get("version") or 0), record["credit"]))
        self.steps[row.step] = row
        self.stage = None

    def _on_budget(self, event: ev.BudgetUpdate) -> None:
        self.budget = {k: getattr(event, k) for k in ("calls", "cache_hits", "prompt_tokens", "completion_tokens", "usd",
                                                      "max_calls", "max_usd")}

    def _on_test_scored(self, event: ev.TestScored) -> None:
        self.test[str(event.label)] = {"version": event.version, "score": _number(event.score), "coverage": event.coverage}

    def _on_error(self, event: ev.ErrorRaised) -> None:
        self.errors.append(f"[{event.stage}] {event.message}")

    def _on_run_finished(self, event: ev.RunFinished) -> None:
        self.finished = True
        self.stop_reason = str(event.stop_reason)
        self.stage = None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
