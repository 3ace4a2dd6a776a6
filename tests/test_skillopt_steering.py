"""Steering a run by hand (issue 17): a candidate given while the run works waits in the run's inbox, is taken at
the next step boundary, scored on validation and put through the same gate, and shows in the lineage as by hand."""

from __future__ import annotations

import json

import pytest

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt import offline_models
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.events import HandCandidateJudged, RunStarted, SkillAccepted, StepFinished
from mimo_tui.skillopt.steering import FEEDBACK_HEADER, SteeringError, give_candidate, pending_candidates, taken_candidates
from mimo_tui.ui.trainer.run_view import RunView
from tests.fixtures.skillopt_project import TrainerProject

RULES = ("\n## Rules given by hand\n\n- Write the result as YYYY-MM-DD, always with two digits for the month and the day "
         "(add a leading zero).\n- Numeric dates with slashes give the day first, then the month, then the year.\n"
         "- Dates with dots are numeric dates like those with slashes.\n- A two-digit year means a year in the 2000s.\n"
         "- Answer with the date only and nothing else.\n")


async def test_candidates_given_while_the_run_works_are_gated_at_the_next_step(trainer_project: TrainerProject) -> None:
    # What was seen: a user could not touch a run while it worked.
    seen: list[object] = []
    start = (trainer_project.entry.folder / "SKILL.md").read_text()
    run_dir = None

    def subscriber(event: object) -> None:
        seen.append(event)
        if isinstance(event, RunStarted):  # the run is working (scoring its baseline): give it two candidates
            give_candidate(run_dir, "edited", start + RULES)
            give_candidate(run_dir, "edited", start.replace("YYYY-MM-DD", "the way the text writes it"))

    prepared = trainer_project.start(trainer_project.config(epochs=1), subscriber)
    run_dir = prepared.run.path
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert summary["completed"]
    judged = [e for e in seen if isinstance(e, HandCandidateJudged)]
    assert [(e.kind, e.after_step, e.action) for e in judged] == [("edited", 0, "accept"), ("edited", 0, "reject")]
    accepted = next(e for e in seen if isinstance(e, SkillAccepted) and e.version == judged[0].version)
    assert seen.index(accepted) < seen.index(judged[0]) and accepted.val_after > accepted.val_before
    assert prepared.run.read_skill_version(judged[0].version) == start + RULES
    assert judged[0].items and judged[1].version is None
    step1 = next(e for e in seen if isinstance(e, StepFinished) and e.step == 1)
    assert step1.record["val_before"] == accepted.val_after  # step 1 starts from the hand-made incumbent
    assert pending_candidates(run_dir) == ([], [])
    done = taken_candidates(run_dir)
    assert [(d["kind"], d["outcome"]["action"]) for d in done] == [("edited", "accept"), ("edited", "reject")]
    state = json.loads((run_dir / "runtime_state.json").read_text())
    assert any(a["version"] == judged[0].version for a in state["accepted"])

    view = RunView(run_dir.name)
    from mimo_tui.skillopt.run_reader import read_run_events

    for item in read_run_events(run_dir / "events.jsonl").events:
        view.apply(item.line, item.event)
    by_hand = [(c.label, c.status, c.by_hand) for c in view.lineage if c.by_hand]
    assert by_hand == [(f"v{judged[0].version:04d}", "accepted", "edited"), ("hand @0", "rejected", "edited")]


async def test_feedback_goes_to_the_optimizer_with_the_last_steps_trajectories(trainer_project: TrainerProject) -> None:
    prompts: list[str] = []

    def spy(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        prompts.append(messages[-1]["content"])
        return offline_models._optimizer(messages, tools, params)

    register_offline_model("steer-spy", spy)
    seen: list[object] = []
    run_dir = None
    note = "European senders write the day first."

    def subscriber(event: object) -> None:
        seen.append(event)
        if isinstance(event, StepFinished) and event.step == 1:
            give_candidate(run_dir, "feedback", note)

    prepared = trainer_project.start(trainer_project.config(epochs=1, optimizer="offline/steer-spy"), subscriber)
    run_dir = prepared.run.path
    await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    (judged,) = [e for e in seen if isinstance(e, HandCandidateJudged)]
    assert (judged.kind, judged.after_step) == ("feedback", 1)
    asked = [p for p in prompts if note in p]
    assert len(asked) == 1 and FEEDBACK_HEADER in asked[0] and "TRAJECTORIES:\n--- 1 (" in asked[0]
    assert judged.action in ("accept", "reject", "undecided", "no_edits") and judged.reason


def test_an_empty_candidate_or_a_folder_that_is_no_run_is_refused(tmp_path) -> None:
    with pytest.raises(SteeringError, match="the feedback is empty"):
        give_candidate(tmp_path, "feedback", "  \n")
    with pytest.raises(SteeringError, match="is not a run folder"):
        give_candidate(tmp_path, "edited", "# Skill\n")
    with pytest.raises(SteeringError, match="unknown candidate kind 'patch'"):
        give_candidate(tmp_path, "patch", "x")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "broken.json").write_text("{")
    given = give_candidate(tmp_path, "feedback", "Prefer the day first for European senders.")
    waiting, problems = pending_candidates(tmp_path)
    assert waiting == [given] and problems[0].startswith("inbox/broken.json is not a candidate (JSONDecodeError")


async def test_a_finished_run_judges_a_hand_candidate_against_its_best_and_it_becomes_adoptable(
        trainer_project: TrainerProject) -> None:
    # What was seen: a candidate given to a finished run waited in its inbox for ever ("a finished run takes no more").
    from mimo_tui.skillopt.adoption import adopt
    from mimo_tui.skillopt.session import skill_relpath
    from mimo_tui.skillopt.staging import load_proposal

    # An optimizer with no ideas: the run ends with its baseline as the best version, which the rules can beat.
    register_offline_model("no-ideas", lambda messages, tools, params: OfflineReply('{"edits": []}'))
    prepared = trainer_project.start(trainer_project.config(epochs=1, optimizer="offline/no-ideas"))
    first = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    run_dir = prepared.run.path
    best = first["val"]["best"]["version"]
    best_text = prepared.run.read_skill_version(best)
    give_candidate(run_dir, "edited", best_text + RULES)
    seen: list[object] = []
    again = trainer_project.resume(run_dir, seen.append)
    summary = await again.trainer.run(CostEstimate(0, 0, 0, 0.0, True), resumed=True)
    judged = [e for e in seen if isinstance(e, HandCandidateJudged)]
    assert [(e.kind, e.action) for e in judged] == [("edited", "accept")], judged
    version = judged[0].version
    assert version is not None and version > best and summary["completed"] and summary["stop_reason"] == "finished"
    accepted = next(e for e in seen if isinstance(e, SkillAccepted))
    assert accepted.val_before == first["val"]["best"]["score"] and accepted.val_after > accepted.val_before
    proposal = load_proposal(run_dir)
    assert proposal["best"]["version"] == version == proposal["final"]["version"]
    assert proposal["versions"][str(version)]["kind"] == "by hand (edited)"
    assert proposal["versions"][str(version)]["parent"] == best
    assert pending_candidates(run_dir) == ([], [])
    from mimo_tui.skillopt.run_reader import read_run_events

    view = RunView(run_dir.name)
    for item in read_run_events(run_dir / "events.jsonl").events:
        view.apply(item.line, item.event)
    (hand,) = [c for c in view.lineage if c.by_hand]
    assert (hand.version, hand.parent, hand.status, hand.by_hand) == (version, best, "accepted", "edited")
    result = adopt(trainer_project.project.store, run_dir, "best")
    assert trainer_project.project.store.read(skill_relpath(trainer_project.entry.name)).text == best_text + RULES
    assert result.commit and f"v{version:04d}" in result.message

    # Nothing waiting: reopening a finished run changes nothing and calls no model.
    calm: list[object] = []
    third = trainer_project.resume(run_dir, calm.append)
    await third.trainer.run(CostEstimate(0, 0, 0, 0.0, True), resumed=True)
    assert not [e for e in calm if isinstance(e, (HandCandidateJudged, SkillAccepted))]
    assert load_proposal(run_dir)["best"]["version"] == version
