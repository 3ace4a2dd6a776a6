"""The training loop: rollout, reflect in parallel groups, merge, rank, apply, gate, and version every accepted edit.

A run never writes the live skill: every version stays in the run folder, and the run ends with a proposal that the
user adopts (or not) with `mimo skill adopt` (see staging.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import math
import random
import time
from collections.abc import Callable
from typing import Any

from mimo_tui.llm import CallRecord, Completion, Gateway, ModelError, ModelSpec, count_tokens
from mimo_tui.skillopt.budget import BudgetExhausted, CostEstimate, edit_budget
from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.dataset import Splits, Task
from mimo_tui.skillopt.edits import Edit, apply_edits, guidance_text, merge_edits, rank_edits, set_guidance
from mimo_tui.skillopt.events import (
    BudgetUpdate, CandidateBuilt, CreditScored, EditsRejected, EpochFinished, EpochStarted, ErrorRaised, GateDecided, MergeDone,
    ProposalsReceived, RolloutProgress, RunFinished, RunStarted, SelectionDone, SkillAccepted, SlowUpdate,
    StepFinished, StepStarted, TestScored,
)
from mimo_tui.skillopt.gate import evaluate_gate
from mimo_tui.skillopt.gate_runner import edit_credit, paired_gate, pending_credit
from mimo_tui.skillopt.graders import GraderError, grade, judge_messages
from mimo_tui.skillopt.leaks import LeakGuard
from mimo_tui.skillopt.prompts import (
    ReplyError, Trajectory, parse_edits, parse_guidance, reflection_messages, rollout_messages, slow_update_messages,
)
from mimo_tui.skillopt.metered_calls import MeteredCalls, StopRequested, note_call
from mimo_tui.skillopt.rollout_log import record_step_rollouts
from mimo_tui.skillopt.run_folder import RunFolder, state_after_step
from mimo_tui.skillopt.script_runner import MAX_ROUNDS, RUN_SCRIPT_TOOL, has_scripts, tool_round
from mimo_tui.skillopt.skill_files import main_text, unpack
from mimo_tui.skillopt.staging import write_proposal
from mimo_tui.skillopt.run_state import RunState, Scores, build_summary, mean_score
from mimo_tui.skillopt.spend import SpendLedger
from mimo_tui.skillopt.steering import judge_after_the_end, take_hand_candidates
from mimo_tui.skillopt.step_report import no_edit_reason
from mimo_tui.atomic_file import atomic_write

log = logging.getLogger(__name__)
_stage: contextvars.ContextVar[str] = contextvars.ContextVar("skillopt_stage", default="other")

class RunAborted(Exception):
    """The run cannot go on (e.g. every rollout errors); the message is the stop reason."""


def token_count(text: str) -> int:
    return count_tokens(text)


class Trainer:
    """One run of the skill trainer; `await run()` returns the summary."""

    def __init__(
        self,
        config: TrainConfig,
        splits: Splits,
        run: RunFolder,
        gateway: Gateway,
        target: ModelSpec,
        optimizer: ModelSpec,
        subscriber: Callable[[Any], None] | None = None,
        judge: ModelSpec | None = None,
    ) -> None:
        self.config = config
        self.splits = splits
        self.run_folder = run
        self.gateway = gateway
        self.target = target
        self.optimizer = optimizer
        self.judge = judge or optimizer
        self.subscriber = subscriber
        self.state = RunState()
        self.cap = SpendLedger(run.path, config.max_calls, config.max_usd)
        self._stop = False
        self.calls = MeteredCalls(gateway, self.cap, config.max_output_tokens, lambda: self._stop)
        self._leaks = LeakGuard.from_splits(splits)
        # Only training items may show their training signal (expected vs given) to the optimizer.
        self._train_ids = {task.id for task in splits.train}
        self._reflect_problems: list[str] = []
        self._meter: dict[str, dict[str, float]] = {}
        self._started = time.monotonic()
        self._last_budget_emit = 0.0
        self._saved: dict[str, Any] = {}
        self._malformed = 0
        self._marks: set[float] = set()
        self._rollout_step: int | None = None  # rollouts inside a step are logged for the dashboard's flip table
        gateway.on_call = self._on_call

    # -- plumbing ------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """Stop at the next model call; calls already in flight finish and are cached."""
        self._stop = True

    def emit(self, event: Any) -> None:
        self.run_folder.append_event(event)
        if self.subscriber is not None:
            try:
                self.subscriber(event)
            except Exception:  # a broken front end must not break a paid-for run
                log.exception("trainer subscriber failed")

    def _on_call(self, record: CallRecord) -> None:
        note_call(record)
        meter = self._meter.setdefault(_stage.get(), {"calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0})
        if record.cached:
            meter["cache_hits"] += 1
        else:
            meter["calls"] += 1
            meter["prompt_tokens"] += record.usage.prompt_tokens
            meter["completion_tokens"] += record.usage.completion_tokens
        now = time.monotonic()
        if not record.cached and (now - self._last_budget_emit > 0.5 or self._crossed_budget_mark()):
            self._last_budget_emit = now
            self._emit_budget()

    def _crossed_budget_mark(self) -> bool:
        """Whether spending just passed 50 % or 80 % of a cap (reported at once, not throttled)."""
        shares = [self.cap.calls / self.config.max_calls if self.config.max_calls else 0.0,
                  self.cap.usd / self.config.max_usd if self.config.max_usd else 0.0]
        for mark in (0.5, 0.8):
            if max(shares) >= mark and mark not in self._marks:
                self._marks.add(mark)
                return True
        return False

    def _emit_budget(self) -> None:
        spent = self.cap.totals()
        self.emit(BudgetUpdate(
            calls=spent.calls, cache_hits=self.gateway.totals.cache_hits, prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens, usd=round(spent.usd, 6), max_calls=self.config.max_calls,
            max_usd=self.config.max_usd,
        ))

    async def _call(self, spec: ModelSpec, messages: list[dict], sample_index: int = 0, **params: Any) -> Completion:
        if self._stop:
            raise StopRequested("stopped by the user")
        return await self.calls.complete(spec, messages, sample_index, **params)

    async def _gather(self, jobs: list[Any]) -> list[Any]:
        """Run coroutines together; a stop or cap raised by any is re-raised once all have settled."""
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:
            if isinstance(result, (StopRequested, BudgetExhausted)):
                raise result
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return results

    # -- rollouts --------------------------------------------------------------------------------
    async def _judge(self, rubric: str, task_input: str, output: str, sample_index: int) -> str:
        completion = await self._call(self.judge, judge_messages(rubric, task_input, output), sample_index, temperature=0.0)
        return completion.text

    async def rollout(self, skill_text: str, tasks: list[Task], stage: str,
                      indices: dict[str, list[int]] | None = None, others: str = "") -> tuple[Scores, list[Trajectory]]:
        """Run the target on tasks x samples (or the sample indices given per task id); errored rollouts are None
        (missing data), never zeros. Scores are aligned with the sample indices."""
        token = _stage.set(stage.split(":")[0])
        plan = {task.id: (indices[task.id] if indices is not None else list(range(self.config.samples))) for task in tasks}
        total = sum(len(ks) for ks in plan.values())
        progress = {"done": 0, "errors": 0}
        every = max(1, total // 20)
        files = unpack(skill_text)
        tools = [RUN_SCRIPT_TOOL] if has_scripts(files) else None

        async def one(task: Task, k: int) -> Trajectory | None:
            try:
                messages = rollout_messages(skill_text, task.input, others)
                params = self.config.target_params(k) | ({"tools": tools} if tools else {})
                completion = await self._call(self.target, messages, k, **params)
                for _ in range(MAX_ROUNDS if tools else 0):  # the skill's scripts, run for the target
                    if not completion.tool_calls:
                        break
                    messages = await tool_round(messages, completion, files, self.config.script_timeout_s)
                    completion = await self._call(self.target, messages, k, **params)

                async def judge(rubric: str, task_input: str, output: str) -> str:
                    return await self._judge(rubric, task_input, output, k)

                result = await grade(task.grader, completion.text, task.input, self.splits.folder, judge,
                                     training=task.id in self._train_ids)
                return Trajectory(task.id, task.input, completion.text, result.score, result.passed, result.feedback)
            except (ModelError, GraderError) as exc:
                progress["errors"] += 1
                self.emit(ErrorRaised(stage, f"{task.id} sample {k}: {exc}"))
                return None
            finally:
                progress["done"] += 1
                if progress["done"] % every == 0 or progress["done"] == total:
                    self.emit(RolloutProgress(stage, progress["done"], total, progress["errors"]))

        try:
            results = await self._gather([one(task, k) for task in tasks for k in plan[task.id]])
        finally:
            _stage.reset(token)
        record_step_rollouts(self.run_folder.path, self._rollout_step, stage, tasks, plan, results)
        scores: Scores = {task.id: [] for task in tasks}
        trajectories = []
        index = 0
        for task in tasks:
            for _ in plan[task.id]:
                item = results[index]
                index += 1
                scores[task.id].append(None if item is None else item.score)
                if item is not None:
                    trajectories.append(item)
        return scores, trajectories

    # -- one step --------------------------------------------------------------------------------
    def _length_problem(self, old: str, new: str) -> str | None:
        """Why a final skill text breaks a length limit (named), else None; the floor holds only when set."""
        before, after = token_count(old), token_count(new)
        if after > self.config.max_tokens and after > before:
            return f"max_tokens limit: the skill would grow to {after} tokens (max {self.config.max_tokens})"
        if self.config.min_tokens and after < self.config.min_tokens and after < before:
            return f"min_tokens floor set for this run: the skill would shrink to {after} tokens (floor {self.config.min_tokens})"
        return None

    async def _score(self, skill_text: str, tasks: list[Task], indices: dict[str, list[int]], stage: str) -> Scores:
        scores, _ = await self.rollout(skill_text, tasks, stage, indices)
        return scores

    async def _reflect(self, step: int, skill_text: str, trajectories: list[Trajectory]) -> list[Edit]:
        ordered = [t for t in trajectories if not t.passed] + [t for t in trajectories if t.passed]
        size = self.config.group_size
        groups = [ordered[i : i + size] for i in range(0, len(ordered), size)]
        groups = [g for g in groups if any(not t.passed for t in g)]
        rejected = list(self.state.rejected)
        exchanges: list[dict[str, Any]] = []
        self._reflect_problems = []
        token = _stage.set("reflect")
        try:
            replies = await self._gather([
                self._reflect_one(step, number, skill_text, group, rejected, exchanges)
                for number, group in enumerate(groups, start=1)
            ])
        finally:
            _stage.reset(token)
            # Every prompt and reply is kept beside the step record, so a user can see why nothing was proposed.
            exchanges.sort(key=lambda e: e["group"])
            self.run_folder.write_jsonl(f"steps/step_{step:04d}/optimizer_prompts.jsonl", exchanges)
        return [edit for reply in replies for edit in reply]

    async def _reflect_one(self, step: int, number: int, skill_text: str, group: list[Trajectory],
                           rejected: list[dict[str, Any]], exchanges: list[dict[str, Any]]) -> list[Edit]:
        messages = reflection_messages(skill_text, group, rejected, self.managed)
        exchange: dict[str, Any] = {"step": step, "group": number, "model": self.optimizer.label,
                                    "items": [t.task_id for t in group], "messages": messages}
        exchanges.append(exchange)
        try:
            completion = await self._call(self.optimizer, messages, 0)
        except ModelError as exc:
            exchange["error"] = str(exc)
            self._reflect_problems.append(f"optimizer call failed: {exc}")
            self.emit(ProposalsReceived(step, number, [], f"optimizer call failed: {exc}"))
            return []
        exchange["reply"] = completion.text
        try:
            edits, problems = parse_edits(completion.text)
        except ReplyError as exc:
            self._malformed += 1
            self._reflect_problems.append(f"malformed reply: {exc}")
            self.emit(ProposalsReceived(step, number, [], f"malformed reply skipped: {exc}"))
            return []
        self._malformed += len(problems)
        support = sum(1 for t in group if not t.passed)
        edits = [Edit(e.op, e.text, e.target, e.rationale, max(1, support), e.file) for e in edits]
        self.emit(ProposalsReceived(step, number, [e.to_dict() for e in edits], "; ".join(problems) or None))
        return edits

    async def _step(self, epoch: int, step: int, batch: list[Task], budget: int, incumbent: str, inc_val: Scores) -> tuple[str, Scores, dict[str, Any]]:
        started = time.monotonic()
        self._meter = {}
        self._malformed = 0
        timings: dict[str, float] = {}
        self.emit(StepStarted(epoch, step, len(batch), budget))
        self._rollout_step = step
        clock = time.monotonic()
        train_scores, trajectories = await self.rollout(incumbent, batch, "train")
        timings["rollout"] = time.monotonic() - clock
        clock = time.monotonic()
        proposals = await self._reflect(step, incumbent, trajectories)
        timings["reflect"] = time.monotonic() - clock
        merged, conflicts = merge_edits(proposals)
        safe, refused = [], []
        for edit in merged:
            leak = self._leaks.check(edit.text, incumbent)
            if leak is not None:
                refused.append({**edit.to_dict(), "status": "refused", "reason": leak})
            else:
                safe.append(edit)
        self.emit(MergeDone(step, len(proposals), len(merged), conflicts, refused))
        kept, dropped = rank_edits(safe, budget)
        self.emit(SelectionDone(step, budget, [e.to_dict() for e in kept], [e.to_dict() for e in dropped]))
        result = apply_edits(incumbent, kept, self._length_problem, managed=self.managed)
        applied = [r.to_dict() for r in result.applied]
        self.emit(CandidateBuilt(step, applied, [r.to_dict() for r in result.with_status("skipped")],
                                 [r.to_dict() for r in result.with_status("refused")], token_count(result.text)))
        record: dict[str, Any] = {
            "epoch": epoch, "step": step, "edit_budget": budget, "train_score": mean_score(train_scores),
            "val_before": mean_score(inc_val), "proposed": len(proposals), "merged": len(merged),
            "conflicts": len(conflicts), "refused_leaks": len(refused), "kept": len(kept),
            "applied": len(applied), "skipped": len(result.with_status("skipped")),
            "refused": len(result.with_status("refused")), "malformed": self._malformed,
        }
        extras: dict[str, Any] = {"edit_apply_report": [r.to_dict() for r in result.reports], "ranked": [e.to_dict() for e in kept]}
        if not applied:
            record.update(action="no_edits", val_after=None, no_edit_reason=no_edit_reason(
                trajectories, len(merged), self._reflect_problems, refused, extras["edit_apply_report"]))
            new_text, new_val = incumbent, inc_val
        else:
            clock = time.monotonic()
            outcome = await paired_gate(self._score, incumbent, result.text, self.splits.val, self.config)
            timings["gate"] = time.monotonic() - clock
            decision = outcome.decision
            evidence = outcome.evidence()
            self.emit(GateDecided(step, decision.action, decision.incumbent, decision.candidate, decision.coverage,
                                  decision.counts, decision.flips, decision.reason, evidence))
            base = self.config.samples
            inc_val = {k: v[:base] for k, v in outcome.incumbent.items()}
            cand_val = {k: v[:base] for k, v in outcome.candidate.items()}
            record.update(action=decision.action, val_before=mean_score(inc_val), val_after=mean_score(cand_val),
                          gate_reason=decision.reason, flips=decision.counts, coverage=decision.coverage, evidence=evidence)
            extras["gate"] = {"action": decision.action, "reason": decision.reason, "items": decision.flips,
                              "evidence": evidence, "sample_indices": outcome.indices,
                              "incumbent": outcome.incumbent, "candidate": outcome.candidate}
            if decision.action == "accept":
                new_text, new_val = result.text, cand_val
                previous = self.state.incumbent_version
                self._accept(step, result.text, mean_score(inc_val) or 0.0, mean_score(cand_val) or 0.0, applied)
                if len(result.applied) > 1:
                    # Credit decides nothing: it is scored once the steps are done, not before the next step.
                    self.state.pending_credit.append(pending_credit(step, self.state.incumbent_version, previous,
                                                                    [r.edit for r in result.applied], outcome, self.managed))
                    record["credit_pending"] = True
            else:
                new_text, new_val = incumbent, inc_val
                entries = [{**a, "delta": decision.delta} for a in applied]
                self.state.rejected.extend(entries)
                self.emit(EditsRejected(step, applied, decision.delta))
        record["seconds"] = {k: round(v, 3) for k, v in timings.items()} | {"total": round(time.monotonic() - started, 3)}
        record["tokens"] = self._meter
        self._rollout_step = None
        return new_text, new_val, {"record": record, "extras": extras}

    @property
    def managed(self) -> bool:
        """Whether edits stay inside the managed region of SKILL.md (the default; --edit-whole lifts it)."""
        return not self.config.edit_whole

    def _accept(self, step: int, text: str, before: float, after: float, applied: list[dict[str, Any]]) -> None:
        """Store the accepted candidate as the next version in the run folder (the live skill is not touched)."""
        version = self.state.version + 1
        self.run_folder.write_skill_version(version, text)
        self.state.version = version
        self.state.versions[str(version)] = {"val": after, "step": step, "kind": "accept",
                                             "parent": self.state.incumbent_version, "edits": applied}
        self.state.incumbent_version = version
        self.state.accepted.append({"step": step, "version": version, "val_before": before, "val_after": after,
                                    "commit": None, "edits": applied})
        # It beat the incumbent in a paired test on the same samples: better evidence than a higher score
        # measured on other samples at another time (which may have been a lucky draw).
        self.state.best_val, self.state.best_version = after, version
        self.emit(SkillAccepted(step, version, before, after, None))

    # -- epochs ----------------------------------------------------------------------------------
    def batch_size(self) -> int:
        """The configured batch, but at most half the training split: one step an epoch learns too little."""
        return max(1, min(self.config.batch, len(self.splits.train) // 2))

    def steps_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.splits.train) / self.batch_size()))

    def _batches(self, epoch: int) -> list[list[Task]]:
        order = list(self.splits.train)
        random.Random(self.config.seed * 1000 + epoch).shuffle(order)
        size = self.batch_size()
        return [order[i : i + size] for i in range(0, len(order), size)]

    async def _slow_update(self, epoch: int, incumbent: str, inc_val: Scores) -> tuple[str, Scores]:
        """Epoch guidance from a before/after comparison, as a candidate that the gate judges like any other; the
        incumbent (and its validation scores) when the optimizer has nothing usable or the gate turns it down."""
        before_text = self.run_folder.read_skill_version(self.state.epoch_start_version)
        tasks = list(self.splits.train)
        random.Random(self.config.seed * 7919 + epoch).shuffle(tasks)
        tasks = tasks[: self.config.slow_tasks]
        before, _ = await self.rollout(before_text, tasks, "slow:before")
        after, trajectories = await self.rollout(incumbent, tasks, "slow:after")
        decision = evaluate_gate(before, after, min_coverage=0.01)
        feedback = {t.task_id: t.feedback for t in trajectories}
        rows = [{"input": t.input, "flip": decision.flips.get(t.id, "unscored"), "feedback": feedback.get(t.id, "")}
                for t in tasks]
        token = _stage.set("slow_update")
        messages = slow_update_messages(incumbent, rows, guidance_text(incumbent))
        exchange: dict[str, Any] = {"epoch": epoch, "model": self.optimizer.label, "items": [t.id for t in tasks],
                                    "messages": messages}
        folder = f"slow_updates/epoch_{epoch:04d}"
        try:
            completion = await self._call(self.optimizer, messages, 0)
            exchange["reply"] = completion.text
            guidance = parse_guidance(completion.text)
        except ModelError as exc:
            exchange["error"] = str(exc)
            self.emit(ErrorRaised("slow_update", f"optimizer call failed: {exc}"))
            return incumbent, inc_val
        except ReplyError as exc:
            self.emit(ErrorRaised("slow_update", f"malformed reply skipped: {exc}"))
            return incumbent, inc_val
        finally:
            _stage.reset(token)
            self.run_folder.write_jsonl(f"{folder}/optimizer_prompts.jsonl", [exchange])
        leak = self._leaks.check(guidance, incumbent)
        if leak is not None:
            self.emit(ErrorRaised("slow_update", f"guidance refused: it {leak}"))
            return incumbent, inc_val
        updated = set_guidance(incumbent, guidance, managed=self.managed)
        problem = self._length_problem(incumbent, updated)
        if problem:
            self.emit(ErrorRaised("slow_update", f"guidance refused: {problem}"))
            return incumbent, inc_val
        if updated == incumbent:
            return incumbent, inc_val
        outcome = await paired_gate(self._score, incumbent, updated, self.splits.val, self.config)
        gate = outcome.decision
        base = self.config.samples
        old_val = {k: v[:base] for k, v in outcome.incumbent.items()}
        new_val = {k: v[:base] for k, v in outcome.candidate.items()}
        self.run_folder.write_json(f"{folder}/gate.json", {"action": gate.action, "reason": gate.reason, "items": gate.flips,
                                                            "evidence": outcome.evidence(), "guidance": guidance})
        if gate.action != "accept":
            self.emit(SlowUpdate(epoch, guidance, self.state.incumbent_version, decision.counts, gate.action, gate.reason,
                                 mean_score(old_val), mean_score(new_val)))
            return incumbent, old_val
        version = self.state.version + 1
        self.run_folder.write_skill_version(version, updated)
        self.state.version = version
        self.state.versions[str(version)] = {
            "val": mean_score(new_val), "step": self.state.global_step, "kind": "slow_update",
            "parent": self.state.incumbent_version, "edits": [{"op": "guidance", "text": guidance, "file": "SKILL.md"}]}
        self.state.incumbent_version = version
        # Like an accepted step: it beat the incumbent in a paired test on the same samples.
        self.state.best_val, self.state.best_version = mean_score(new_val), version
        self.emit(SlowUpdate(epoch, guidance, version, decision.counts, gate.action, gate.reason,
                             mean_score(old_val), mean_score(new_val)))
        return updated, new_val

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue from a runtime_state.json written by an earlier segment of this run."""
        self.state = RunState.from_dict(saved)
        self._saved = self.state.to_dict()
        state = self.state
        self.cap.carry(state.spent_calls, state.spent_usd, state.spent_prompt_tokens, state.spent_completion_tokens)

    def save_state(self, from_last_save: bool = False) -> None:
        """Write runtime_state.json; after a stop, only the spend and reason are added to the last saved state."""
        spent = self.cap.totals()
        base = dict(self._saved) if from_last_save and self._saved else self.state.to_dict()
        if not from_last_save:
            self._saved = self.state.to_dict()
        # A copy for readers of the state; the journal (spend.jsonl) is what caps and summaries count.
        snapshot = base | {
            "stop_reason": self.state.stop_reason,
            "spent_calls": spent.calls,
            "spent_usd": spent.usd,
            "spent_prompt_tokens": spent.prompt_tokens,
            "spent_completion_tokens": spent.completion_tokens,
            "elapsed_s": self.state.elapsed_s + (time.monotonic() - self._started),
        }
        self.run_folder.write_json("runtime_state.json", snapshot)
        self.run_folder.sync()

    def estimate(self, price: Callable[[ModelSpec, int, int], float | None]) -> CostEstimate:
        """Calls, tokens and dollars of what is left of the run, answers already cached left out."""
        from mimo_tui.skillopt.estimate import estimate_run

        return estimate_run(self, price)

    # -- the run -----------------------------------------------------------------------------------
    async def run(self, estimate: CostEstimate, resumed: bool = False) -> dict[str, Any]:
        """Train until the epochs are done, a cap is hit or a stop is requested; returns the summary."""
        self.emit(RunStarted(self.run_folder.run_id, self.config.skill, self.target.label, self.optimizer.label,
                             resumed, self.config.to_dict(), estimate.to_dict()))
        stop_reason = "finished"
        test: dict[str, Any] = {}
        try:
            test = await self._train()
        except StopRequested as exc:
            stop_reason = str(exc)
        except (BudgetExhausted, RunAborted) as exc:
            stop_reason = str(exc)
        summary = build_summary(self.state, self.config, self.run_folder.run_id, (self.target.label, self.optimizer.label),
                                self.cap.totals(), self.gateway.totals.cache_hits, stop_reason, test,
                                time.monotonic() - self._started)
        self.state.stop_reason = None if stop_reason == "finished" else stop_reason
        if stop_reason == "finished":
            self.state.phase = "done"
        self._emit_budget()
        # A stop can land mid-step: keep the state of the last finished step so a resume redoes the rest.
        self.save_state(from_last_save=stop_reason != "finished")
        self.run_folder.write_json("summary.json", summary)
        write_proposal(self.run_folder.path)
        self.cap.close()
        self.emit(RunFinished(stop_reason, summary))
        return summary

    async def _train(self) -> dict[str, Any]:
        state = self.state
        incumbent = self.run_folder.read_skill_version(state.incumbent_version)
        if state.phase == "done":  # reopened after the end: only candidates given by hand are left to judge
            return await judge_after_the_end(self, (self.run_folder.read_json("summary.json") or {}).get("test", {}))
        inc_val, _ = await self.rollout(incumbent, self.splits.val, "val:incumbent")
        if mean_score(inc_val) is None:
            raise RunAborted(f"the target {self.target.label} failed on every validation task (see the error events)")
        if state.phase == "baseline":
            needed = math.ceil(math.log2(1 / self.config.alpha))
            if len(self.splits.val) < needed:
                self.emit(ErrorRaised("gate", f"the validation split has {len(self.splits.val)} items: at alpha "
                                      f"{self.config.alpha:g} the gate needs at least {needed} items that improve (and none "
                                      "that regress) to accept an edit; add validation items or raise --alpha"))
            state.baseline_val = mean_score(inc_val)
            state.best_val = state.baseline_val
            state.versions["1"] = {"val": state.baseline_val, "step": 0, "kind": "baseline"}
            state.phase = "steps"
            self.save_state()
            self.run_folder.write_json(state_after_step(0), state.to_dict())
        total_steps = self.config.epochs * self.steps_per_epoch()
        while state.phase in ("steps", "slow") and state.epoch <= self.config.epochs:
            epoch = state.epoch
            batches = self._batches(epoch)
            if state.phase == "steps":
                if state.next_step == 0:
                    self.emit(EpochStarted(epoch, self.config.epochs))
                while state.next_step < len(batches):
                    step = state.global_step + 1
                    budget = edit_budget(step - 1, total_steps, self.config.edit_budget, self.config.edit_budget_end, self.config.schedule)
                    incumbent, inc_val = await take_hand_candidates(self, incumbent, inc_val)  # steering by hand
                    incumbent, inc_val, outcome = await self._step(epoch, step, batches[state.next_step], budget, incumbent, inc_val)
                    record = outcome["record"]
                    state.global_step = step
                    state.next_step += 1
                    record["version"] = state.incumbent_version
                    state.history.append({k: record.get(k) for k in ("epoch", "step", "action", "val_before", "val_after", "applied", "version")})
                    self.run_folder.write_step(step, record, outcome["extras"])
                    self.emit(StepFinished(step, record["action"], record["seconds"]["total"], record))
                    self._emit_budget()
                    self.save_state()
                    self.run_folder.write_json(state_after_step(step), state.to_dict())
                state.phase = "slow"
                self.save_state()
            incumbent, inc_val = await self._slow_update(epoch, incumbent, inc_val)
            accepted = sum(1 for a in state.accepted if a["step"] > state.global_step - len(batches))
            self.emit(EpochFinished(epoch, accepted, len(state.rejected)))
            state.epoch += 1
            state.next_step = 0
            state.rejected = []
            state.epoch_start_version = state.incumbent_version
            state.phase = "steps" if state.epoch <= self.config.epochs else "test"
            self.save_state()
        state.phase = "test"
        await self._settle_credit()
        return await self._test()

    async def _settle_credit(self) -> None:
        """Score the credit of each accepted step of several edits still pending (in step order), record it in the
        step record and the accepted entry, and save the state after each, so a stop loses at most one."""
        state = self.state
        while state.pending_credit:
            entry = state.pending_credit[0]
            step = int(entry["step"])
            previous = self.run_folder.read_skill_version(int(entry["previous_version"]))
            credit = await edit_credit(self._score, previous, entry, self.splits.val)
            for accepted in state.accepted:
                if accepted["step"] == step:
                    accepted["credit"] = credit
            folder = f"steps/step_{step:04d}"
            try:
                record = self.run_folder.read_json(f"{folder}/record.json")
            except (OSError, ValueError):  # the event and the state still carry it
                record = None
            if isinstance(record, dict):
                record.pop("credit_pending", None)
                self.run_folder.write_json(f"{folder}/record.json", record | {"credit": credit})
            state.pending_credit.pop(0)
            self.emit(CreditScored(step, int(entry["version"]), credit))
            self.save_state()

    async def _test(self) -> dict[str, Any]:
        labels = {"baseline": 1, "best": self.state.best_version, "final": self.state.incumbent_version}
        if not self.splits.test:
            note = "no test split: validation only"
            self.run_folder.write_json("test_eval.json", {"note": note})
            atomic_write(self.run_folder.path / "best_skill.md", main_text(self.run_folder.read_skill_version(self.state.best_version)).encode())
            return {label: {"version": version, "score": None, "coverage": 0.0, "note": note} for label, version in labels.items()}
        scored: dict[int, dict[str, Any]] = {}
        report: dict[str, Any] = {}
        for label, version in labels.items():
            if version not in scored:
                scores, _ = await self.rollout(self.run_folder.read_skill_version(version), self.splits.test, f"test:{label}")
                paired = sum(1 for s in scores.values() for v in s if v is not None)
                expected = sum(len(s) for s in scores.values())
                scored[version] = {"version": version, "score": mean_score(scores), "coverage": paired / expected if expected else 0.0,
                                   "items": {k: v for k, v in scores.items()}}
            entry = scored[version]
            report[label] = {k: entry[k] for k in ("version", "score", "coverage")}
            self.emit(TestScored(label, version, entry["score"], entry["coverage"]))
        self.run_folder.write_json("test_eval.json", {label: scored[v] for label, v in labels.items()})
        atomic_write(self.run_folder.path / "best_skill.md", main_text(self.run_folder.read_skill_version(self.state.best_version)).encode())
        return report
