"""Steering a run by hand: a user gives a run a candidate (an edited SKILL.md text, or written feedback for the
optimizer); it waits in the run folder's `inbox/` until the trainer reaches the next step boundary, where it is
scored on validation and put through the same paired gate as the optimizer's candidates.

The inbox is plain files so any process can give a candidate to a run another process trains: the UI (through
services), or a script. A taken candidate moves to `inbox/done/` with its outcome.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mimo_tui.atomic_file import atomic_write
from mimo_tui.skillopt.events import ErrorRaised, HandCandidateJudged

if TYPE_CHECKING:
    from mimo_tui.skillopt.gate_runner import Scores

# The trainer calls in here (trainer.py -> steering.py), so it is typed loosely here to keep the import one-way.
Trainer = Any

INBOX = "inbox"
DONE = "done"
KINDS = ("edited", "feedback")
FEEDBACK_HEADER = "FEEDBACK FROM THE USER (apply it where the trajectories agree; propose general edits):"


class SteeringError(ValueError):
    """A candidate that cannot be given (empty text, unknown kind, no such run)."""


@dataclass(frozen=True)
class HandCandidate:
    ident: str
    kind: str  # "edited": `text` is the whole SKILL.md; "feedback": `text` is notes for the optimizer
    text: str
    created: float


def inbox_dir(run_dir: Path) -> Path:
    return run_dir / INBOX


def give_candidate(run_dir: Path, kind: str, text: str) -> HandCandidate:
    """Put a candidate in the run's inbox (atomically, so a trainer never reads half of it)."""
    if kind not in KINDS:
        raise SteeringError(f"unknown candidate kind {kind!r} (known: {', '.join(KINDS)})")
    if not text.strip():
        raise SteeringError("the candidate is empty: nothing was given to the run" if kind == "edited"
                            else "the feedback is empty: nothing was given to the run")
    if not (run_dir / "config.json").exists():
        raise SteeringError(f"{run_dir} is not a run folder (no config.json)")
    created = time.time()
    candidate = HandCandidate(f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(created))}-{uuid.uuid4().hex[:6]}",
                              kind, text, created)
    path = inbox_dir(run_dir) / f"{candidate.ident}.json"
    atomic_write(path, (json.dumps(asdict(candidate), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return candidate


def pending_candidates(run_dir: Path) -> tuple[list[HandCandidate], list[str]]:
    """Candidates waiting in the inbox, oldest first, and problems with unreadable files (left in place)."""
    folder = inbox_dir(run_dir)
    if not folder.is_dir():
        return [], []
    found, problems = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            candidate = HandCandidate(str(data["ident"]), str(data["kind"]), str(data["text"]), float(data["created"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{INBOX}/{path.name} is not a candidate ({type(exc).__name__}: {exc}); left in place")
            continue
        found.append(candidate)
    return sorted(found, key=lambda c: (c.created, c.ident)), problems


def finish_candidate(run_dir: Path, candidate: HandCandidate, outcome: dict[str, Any]) -> None:
    """Move a taken candidate to inbox/done/ with what became of it."""
    done = inbox_dir(run_dir) / DONE / f"{candidate.ident}.json"
    atomic_write(done, (json.dumps(asdict(candidate) | {"outcome": outcome}, ensure_ascii=False, indent=2,
                                   default=str) + "\n").encode("utf-8"))
    (inbox_dir(run_dir) / f"{candidate.ident}.json").unlink(missing_ok=True)


def taken_candidates(run_dir: Path) -> list[dict[str, Any]]:
    """Candidates already judged, with their outcome."""
    rows = []
    for path in sorted((inbox_dir(run_dir) / DONE).glob("*.json")):
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return sorted(rows, key=lambda row: (row.get("created") or 0.0, str(row.get("ident"))))


# -- the trainer side ------------------------------------------------------------------------------
async def take_hand_candidates(trainer: Trainer, incumbent: str, inc_val: Scores) -> tuple[str, Scores]:
    """The trainer's hook at a step boundary: judge every waiting candidate in turn against the incumbent (the same
    paired gate as a step's candidate); returns the incumbent and its validation scores afterwards."""
    from mimo_tui.skillopt.gate_runner import paired_gate
    from mimo_tui.skillopt.run_state import mean_score

    run_dir = trainer.run_folder.path
    waiting, problems = pending_candidates(run_dir)
    for problem in problems:
        trainer.emit(ErrorRaised("steering", problem))
    after_step = trainer.state.global_step
    for candidate in waiting:
        text, applied, why_not = await _candidate_text(trainer, candidate, incumbent, after_step)
        if text is None:
            trainer.emit(HandCandidateJudged(candidate.ident, candidate.kind, after_step, "no_edits", mean_score(inc_val),
                                             None, {}, why_not))
            finish_candidate(run_dir, candidate, {"action": "no_edits", "reason": why_not})
            continue
        outcome = await paired_gate(trainer._score, incumbent, text, trainer.splits.val, trainer.config)
        decision = outcome.decision
        base = trainer.config.samples
        cand_val = {k: v[:base] for k, v in outcome.candidate.items()}
        before, after = mean_score({k: v[:base] for k, v in outcome.incumbent.items()}), mean_score(cand_val)
        version = None
        if decision.action == "accept":
            trainer._accept(after_step, text, before or 0.0, after or 0.0, applied)
            version = trainer.state.version
            trainer.state.versions[str(version)]["kind"] = f"by hand ({candidate.kind})"  # the proposal's lineage
            incumbent, inc_val = text, cand_val
        trainer.emit(HandCandidateJudged(candidate.ident, candidate.kind, after_step, decision.action, decision.incumbent,
                                         decision.candidate, decision.flips, decision.reason, version))
        finish_candidate(run_dir, candidate, {"action": decision.action, "reason": decision.reason, "version": version,
                                              "val_before": before, "val_after": after})
        trainer.save_state()
    return incumbent, inc_val


async def judge_after_the_end(trainer: Trainer, test: dict[str, Any]) -> dict[str, Any]:
    """A finished run reopened with candidates in its inbox: judge each against the run's best version on validation
    (the same paired gate); an accepted one is the run's new best (and final) version, scored on the test split like
    the others. Returns the test report (the old one when nothing was accepted)."""
    from mimo_tui.skillopt.run_state import mean_score

    if not pending_candidates(trainer.run_folder.path)[0]:
        return test
    state = trainer.state
    final, best = state.incumbent_version, state.best_version
    state.incumbent_version = best  # an accepted candidate's parent is the best version, the one it had to beat
    incumbent = trainer.run_folder.read_skill_version(best)
    inc_val, _ = await trainer.rollout(incumbent, trainer.splits.val, "val:incumbent")
    if mean_score(inc_val) is None:
        state.incumbent_version = final
        trainer.emit(ErrorRaised("steering", f"the target failed on every validation task scoring v{best:04d}: the "
                                 "candidates stay in the inbox"))
        return test
    await take_hand_candidates(trainer, incumbent, inc_val)
    if state.best_version == best:
        state.incumbent_version = final
        return test
    return await trainer._test()


async def _candidate_text(trainer: Trainer, candidate: HandCandidate, incumbent: str,
                          after_step: int) -> tuple[str | None, list[dict[str, Any]], str]:
    """The candidate skill text (None when there is none, with why) and the edits it stands for."""
    if candidate.kind == "edited":
        from mimo_tui.skillopt.skill_files import SKILL_FILE, pack, unpack

        # The user edits SKILL.md; a multi-file skill keeps its scripts/ and references/ as the incumbent has them.
        text = pack({**unpack(incumbent), SKILL_FILE: candidate.text})
        problem = trainer._length_problem(incumbent, text)
        if problem:
            return None, [], f"the edited skill breaks the {problem}"
        if text == incumbent:
            return None, [], "the edited skill is the same text as the incumbent"
        return text, [{"op": "by_hand", "text": "the whole SKILL.md, edited by hand", "file": SKILL_FILE}], ""
    return await _from_feedback(trainer, candidate.text, incumbent, after_step)


async def _from_feedback(trainer: Trainer, feedback: str, incumbent: str,
                         after_step: int) -> tuple[str | None, list[dict[str, Any]], str]:
    """Ask the optimizer for edits from the last step's training trajectories plus the user's feedback."""
    from mimo_tui.llm import ModelError
    from mimo_tui.skillopt.edits import apply_edits, rank_edits
    from mimo_tui.skillopt.prompts import ReplyError, parse_edits, reflection_messages

    trajectories = _last_train_trajectories(trainer.run_folder.path, after_step)
    messages = reflection_messages(incumbent, trajectories, list(trainer.state.rejected))
    messages[-1] = {**messages[-1], "content": messages[-1]["content"] + f"\n{FEEDBACK_HEADER}\n{feedback.strip()}"}
    try:
        completion = await trainer._call(trainer.optimizer, messages, 0)
        edits, _ = parse_edits(completion.text)
    except (ModelError, ReplyError) as exc:
        return None, [], f"the optimizer gave no usable edits for the feedback: {exc}"
    safe = [e for e in edits if trainer._leaks.check(e.text, incumbent) is None]
    kept, _ = rank_edits(safe, trainer.config.edit_budget)
    result = apply_edits(incumbent, kept, trainer._length_problem)
    if not result.applied:
        return None, [], "the optimizer proposed no edit that applies for this feedback"
    return result.text, [r.to_dict() for r in result.applied], ""


def _last_train_trajectories(run_dir: Path, step: int) -> list[Any]:
    from mimo_tui.skillopt.prompts import Trajectory
    from mimo_tui.skillopt.rollout_log import read_rollouts

    if step < 1:
        return []
    lines, _ = read_rollouts(run_dir, step)
    return [Trajectory(str(line["item"]), str(line.get("input", "")), str(line.get("output", "")),
                       float(line.get("score") or 0.0), bool(line.get("passed")), str(line.get("feedback", "")))
            for line in lines if line.get("stage") == "train" and line.get("output") is not None]
