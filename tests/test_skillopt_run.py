"""Whole runs of the trainer on the offline demo models: versioning, run folder, resume, caps, bad replies."""

from __future__ import annotations

import json
import random

import pytest

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.events import GateDecided, ProposalsReceived, RunFinished, SkillAccepted
from mimo_tui.skillopt import offline_models
from mimo_tui.skillopt.events import EditsRejected
from mimo_tui.skillopt.offline_models import propose_edits
from mimo_tui.skillopt.run_folder import list_runs, load_run, read_events
from mimo_tui.skillopt.session import skill_relpath
from mimo_tui.store import USER
from tests.fixtures.skillopt_project import DEMO, TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)


async def _train(tp: TrainerProject, config, subscriber=None):
    prepared = tp.start(config, subscriber)
    summary = await prepared.trainer.run(NO_ESTIMATE)
    return prepared, summary


def _history(run_dir) -> list[tuple]:
    state = json.loads((run_dir / "runtime_state.json").read_text())
    return [(a["step"], a["version"], round(a["val_before"], 6), round(a["val_after"], 6),
             tuple(e["text"] for e in a["edits"])) for a in state["accepted"]]


async def test_demo_run_versions_every_accepted_edit(trainer_project: TrainerProject) -> None:
    seen: list[object] = []
    prompts: list[str] = []

    def spy(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        prompts.append(messages[-1]["content"])
        return offline_models._optimizer(messages, tools, params)

    register_offline_model("spy-optimizer", spy)
    prepared, summary = await _train(trainer_project, trainer_project.config(optimizer="offline/spy-optimizer"), seen.append)
    run = prepared.run.path
    assert summary["completed"] and summary["stop_reason"] == "finished"
    assert summary["test"]["final"]["score"] > summary["test"]["baseline"]["score"]
    assert summary["test"]["best"]["version"] >= 2
    for name in ("config.json", "events.jsonl", "runtime_state.json", "summary.json", "skills/skill_v0001.md",
                 "steps/step_0001/record.json", "steps/step_0001/edit_apply_report.json"):
        assert (run / name).exists(), name
    record = json.loads((run / "steps/step_0001/record.json").read_text())
    assert {"action", "val_before", "applied", "skipped", "seconds", "tokens", "edit_budget"} <= set(record)
    assert "rollout" in record["seconds"] and record["tokens"]["train"]["calls"] > 0
    accepted = [e for e in seen if isinstance(e, SkillAccepted)]
    # Staged: every accepted version is kept in the run folder; nothing is committed to the live skill.
    assert accepted and not any(e.commit for e in accepted)
    assert trainer_project.project.store.log(skill_relpath(DEMO)) == []
    assert all((run / "skills" / f"skill_v{e.version:04d}.md").exists() for e in accepted)
    gates = [e for e in seen if isinstance(e, GateDecided)]
    assert gates and all(sum(g.flips.values()) == len(g.items) for g in gates)
    rejected = [e for e in seen if isinstance(e, EditsRejected)]
    assert rejected and rejected[0].delta == 0.0
    fed_back = [p for p in prompts if "REJECTED EDITS THIS EPOCH" in p]
    assert fed_back and all(rejected[0].edits[0]["text"] in p and "validation change +0.000" in p for p in fed_back)
    assert (run / "best_skill.md").read_text() == prepared.run.read_skill_version(summary["test"]["best"]["version"])
    events = read_events(run)
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_finished"
    assert isinstance(seen[-1], RunFinished)
    info = load_run(run)
    assert info.status == "finished" and info.accepted == len(accepted)
    assert [r.run_id for r in list_runs(trainer_project.project.workspace.runs_dir)] == [prepared.run.run_id]


async def test_stopped_run_resumes_to_the_same_history_without_repeating_calls(trainer_project: TrainerProject) -> None:
    store = trainer_project.project.store
    original = (trainer_project.entry.folder / "SKILL.md").read_text()
    full, full_summary = await _train(trainer_project, trainer_project.config())
    full_calls = full.trainer.gateway.totals.calls
    event_count = len(read_events(full.run.path))
    for stop_at in random.Random(5).sample(range(3, event_count - 2), 2):
        store.write(skill_relpath(DEMO), original, USER, message="test: reset skill")
        counter = {"n": 0}
        holder: dict[str, object] = {}

        def stop_at_event(event: object) -> None:
            counter["n"] += 1
            if counter["n"] == stop_at:
                holder["trainer"].request_stop()

        first = trainer_project.start(trainer_project.config(), stop_at_event)
        holder["trainer"] = first.trainer
        stopped = await first.trainer.run(NO_ESTIMATE)
        assert not stopped["completed"] and stopped["stop_reason"] == "stopped by the user"
        assert load_run(first.run.path).status == "stopped"
        resumed = trainer_project.resume(first.run.path)
        summary = await resumed.trainer.run(NO_ESTIMATE, resumed=True)
        assert summary["completed"]
        assert _history(first.run.path) == _history(full.run.path)
        assert first.trainer.gateway.totals.calls + resumed.trainer.gateway.totals.calls == full_calls
        assert summary["spent"]["calls"] == full_calls
        assert summary["test"] == full_summary["test"]


async def test_call_cap_stops_the_run_with_the_reason(trainer_project: TrainerProject) -> None:
    prepared, summary = await _train(trainer_project, trainer_project.config(max_calls=30))
    assert not summary["completed"]
    assert summary["stop_reason"] == "call cap reached (30 calls)"
    assert prepared.trainer.gateway.totals.calls <= 30
    assert summary["test"]["final"]["score"] is None and "not scored" in summary["test"]["final"]["note"]
    resumed = trainer_project.resume(prepared.run.path)
    again = await resumed.trainer.run(NO_ESTIMATE, resumed=True)
    assert again["stop_reason"] == "call cap reached (30 calls)" and resumed.trainer.gateway.totals.calls == 0


async def test_malformed_optimizer_replies_are_recorded_and_skipped(trainer_project: TrainerProject) -> None:
    calls = {"n": 0}

    def flaky_optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        prompt = messages[-1]["content"]
        if "[skillopt:slow-update]" in messages[0]["content"]:
            return OfflineReply(text="guidance without json")
        calls["n"] += 1
        if calls["n"] % 3 == 1:
            return OfflineReply(text="I think the skill is fine {not: json}")
        edits = [{"op": "explode", "text": "boom"}, *propose_edits(prompt)]
        return OfflineReply(text=json.dumps({"edits": edits}))

    register_offline_model("flaky-optimizer", flaky_optimizer)
    seen: list[object] = []
    _, summary = await _train(trainer_project, trainer_project.config(optimizer="offline/flaky-optimizer", edit_whole=True),
                              seen.append)
    problems = [e.problem for e in seen if isinstance(e, ProposalsReceived) and e.problem]
    assert any(p.startswith("malformed reply skipped: the reply is not valid JSON") for p in problems)
    assert any("unknown edit operation 'explode'" in p for p in problems)
    assert summary["completed"] and summary["accepted_steps"]
    errors = [e for e in read_events(_last_run(trainer_project)) if e["type"] == "error"]
    assert any("slow_update" == e["stage"] and "malformed" in e["message"] for e in errors)


def _last_run(tp: TrainerProject):
    return list_runs(tp.project.workspace.runs_dir)[0].path


# Cancelling litellm mid-call leaves one of its internal coroutines unawaited; that is the crash being simulated.
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
async def test_crashed_run_resumes_and_repeats_only_calls_that_were_in_flight(trainer_project: TrainerProject) -> None:
    import asyncio
    from collections import Counter

    invoked: Counter[str] = Counter()

    def counting(handler):
        def wrapped(messages: list[dict], tools: object, params: dict) -> OfflineReply:
            invoked[json.dumps(messages, sort_keys=True)] += 1
            return handler(messages, tools, params)
        return wrapped

    register_offline_model("count-target", counting(offline_models._target))
    register_offline_model("count-optimizer", counting(offline_models._optimizer))
    config = {"target": "offline/count-target", "optimizer": "offline/count-optimizer"}
    original = (trainer_project.entry.folder / "SKILL.md").read_text()
    full, _ = await _train(trainer_project, trainer_project.config(**config))
    event_count = len(read_events(full.run.path))
    assert max(invoked.values()) == 1
    for kill_at in random.Random(11).sample(range(5, event_count - 2), 2):
        trainer_project.project.store.write(skill_relpath(DEMO), original, USER, message="test: reset skill")
        invoked.clear()
        counter = {"n": 0}
        crash: dict[str, object] = {}

        def kill(event: object) -> None:
            counter["n"] += 1
            if counter["n"] == kill_at:
                crash["in_flight"] = crash_run.trainer.cap.in_flight
                task.cancel()

        crash_run = trainer_project.start(trainer_project.config(**config), kill)
        task = asyncio.ensure_future(crash_run.trainer.run(NO_ESTIMATE))
        try:
            await task
        except asyncio.CancelledError:
            pass
        assert "in_flight" in crash and not (crash_run.run.path / "summary.json").exists()
        await asyncio.sleep(0.2)  # cache writes already handed to threads finish, as they would on a real crash
        resumed = trainer_project.resume(crash_run.run.path)
        summary = await resumed.trainer.run(NO_ESTIMATE, resumed=True)
        assert summary["completed"]
        assert _history(crash_run.run.path) == _history(full.run.path)
        repeated = sum(n - 1 for n in invoked.values() if n > 1)
        assert repeated <= crash["in_flight"]


async def test_a_skill_edited_during_the_run_is_never_overwritten(trainer_project: TrainerProject) -> None:
    # The run never writes the live skill: a note the user adds mid-run stays, and the run goes on to its end.
    store = trainer_project.project.store
    holder: dict[str, object] = {}
    source = (trainer_project.entry.folder / "SKILL.md").read_text()

    def edit_by_hand(event: object) -> None:
        if type(event).__name__ == "StepStarted" and "done" not in holder:
            holder["done"] = True
            store.write(skill_relpath(DEMO), source + "\nA note the user added.\n", USER, message="user: note")

    prepared, summary = await _train(trainer_project, trainer_project.config(), edit_by_hand)
    assert summary["completed"] and summary["accepted_steps"]
    assert store.read(skill_relpath(DEMO)).text == source + "\nA note the user added.\n"
    assert [c.author for c in store.log(skill_relpath(DEMO))] == ["user"]
    assert (prepared.run.path / "skills" / "skill_v0002.md").exists()
