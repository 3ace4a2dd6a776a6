"""The gate and the length limits inside real trainer runs (offline models written for each scene)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.events import CreditScored, GateDecided, RolloutProgress, SkillAccepted, StepFinished
from mimo_tui.skillopt.prompts import REFLECT_MARK
from tests.fixtures.skillopt_project import DEMO, TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)
FRONT = f"---\nname: {DEMO}\ndescription: Answer OK when the task is understood.\n---\n\n# Answers\n\n"


def _write_dataset(folder: Path, skill: str, train: list[str], val: list[str]) -> None:
    (folder / "SKILL.md").write_text(skill)
    test = ["real-test-1", "steady-test-1"]
    for split, names in (("train", train), ("val", val), ("test", test)):
        rows = [{"id": f"{split}-{n}", "input": f"task {split} {n}", "grader": {"type": "exact", "reference": "OK"}}
                for n in names]
        (folder / "eval" / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _parts(messages: list[dict]) -> tuple[str, str]:
    return messages[0]["content"], messages[-1]["content"]


def _optimizer_appending(rule: str):
    def optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        if REFLECT_MARK not in system or rule in user.split("TRAJECTORIES:")[0]:
            return OfflineReply(text='{"edits": []}')
        return OfflineReply(text=json.dumps({"edits": [{"op": "append", "text": rule, "rationale": "seen in feedback"}]}))

    return optimizer


async def _run(tp: TrainerProject, target: str, optimizer: str, **config: object) -> tuple[list[object], dict]:
    seen: list[object] = []
    prepared = tp.start(tp.config(target=f"offline/{target}", optimizer=f"offline/{optimizer}", batch=4, slow_tasks=2,
                                  **config), seen.append, concurrency=1)
    summary = await prepared.trainer.run(NO_ESTIMATE)
    return seen, {"summary": summary, "run": prepared.run.path}


async def test_a_lucky_incumbent_is_rescored_and_loses_to_a_truly_better_candidate(trainer_project: TrainerProject) -> None:
    # What was seen: a lucky early validation score (measured once) beat candidates that were truly better.
    # Here the incumbent passes the six noisy items on its first sample only (true rate 1/3); the candidate
    # passes them on every third sample too (same true rate) and fixes five items for good.
    real, noisy, steady = [f"real{i}" for i in range(5)], [f"noisy{i}" for i in range(6)], [f"steady{i}" for i in range(4)]
    _write_dataset(trainer_project.entry.folder, FRONT + "Answer the task.\n", [f"real-t{i}" for i in range(4)], real + noisy + steady)
    calls: Counter[tuple[str, str]] = Counter()

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        fixed = "FIX-RULE" in system
        k = calls[(system, user)]
        calls[(system, user)] += 1
        if "noisy" in user:
            ok = k % 3 == (2 if fixed else 0)
        else:
            ok = "steady" in user or fixed
        return OfflineReply(text="OK" if ok else "no")

    register_offline_model("lucky-target", target)
    register_offline_model("lucky-optimizer", _optimizer_appending("FIX-RULE: answer OK."))
    seen, result = await _run(trainer_project, "lucky-target", "lucky-optimizer")
    gate = next(e for e in seen if isinstance(e, GateDecided))
    assert gate.action == "accept", gate.reason
    assert gate.evidence["rounds"] and gate.evidence["rounds"][0]["items"] == 11
    assert gate.flips["improved"] == 5 and gate.flips["regressed"] == 0
    assert any(isinstance(e, SkillAccepted) and e.step == 1 for e in seen)
    extras = json.loads((result["run"] / "steps/step_0001/gate.json").read_text())
    # the incumbent was scored again in the step, on the same sample indices as the candidate, and more
    assert extras["sample_indices"]["val-noisy0"] == [0, 1, 2]
    assert extras["incumbent"]["val-noisy0"] == [1.0, 0.0, 0.0]
    assert sorted(extras["candidate"]["val-noisy0"]) == [0.0, 0.0, 1.0]
    assert extras["sample_indices"]["val-steady0"] == [0]
    record = json.loads((result["run"] / "steps/step_0001/record.json").read_text())
    assert record["evidence"]["p_value"] == 0.0312 and record["evidence"]["paired_samples"] == 4 + 11 * 3


async def test_six_improved_five_regressed_is_not_accepted_in_a_run(trainer_project: TrainerProject) -> None:
    # What was seen: an edit was accepted on +0.025 with 6 items improved and 5 regressed (prompt noise).
    gain, loss, steady = [f"gain{i}" for i in range(6)], [f"loss{i}" for i in range(5)], [f"steady{i}" for i in range(29)]
    _write_dataset(trainer_project.entry.folder, FRONT + "Answer the task.\n", [f"gain-t{i}" for i in range(4)], gain + loss + steady)

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        edited = "COSMETIC" in system
        ok = "steady" in user or ("gain" in user and edited) or ("loss" in user and not edited)
        return OfflineReply(text="OK" if ok else "no")

    register_offline_model("noise-target", target)
    register_offline_model("noise-optimizer", _optimizer_appending("COSMETIC: be concise."))
    seen, result = await _run(trainer_project, "noise-target", "noise-optimizer")
    gates = [e for e in seen if isinstance(e, GateDecided)]
    assert gates and all(g.action != "accept" for g in gates)
    first = gates[0]
    assert abs((first.candidate - first.incumbent) - 0.025) < 1e-9
    assert first.action == "undecided" and "within the noise" in first.reason and "2 round(s)" in first.reason
    assert first.evidence["improved"] == 6 and first.evidence["regressed"] == 5 and first.evidence["p_value"] == 0.5
    assert len(first.evidence["rounds"]) == 2
    assert not [e for e in seen if isinstance(e, SkillAccepted)]
    assert result["summary"]["accepted_steps"] == []
    step = next(e for e in seen if isinstance(e, StepFinished))
    assert step.record["action"] == "undecided" and step.record["evidence"]["p_value"] == 0.5


async def test_a_shortening_replacement_under_the_old_floor_is_accepted(trainer_project: TrainerProject) -> None:
    # What was seen: while the skill was under min_tokens (300), every edit that made it shorter was refused,
    # so a too-broad rule could not be replaced by a shorter right one.
    wrong = ("When a task mentions anything at all, always answer with the single word no, whatever the task says, "
             "and never with anything else, because a cautious answer is always the safest one to give.")
    skill = FRONT + "Answer the task.\n\n" + wrong + "\n"
    _write_dataset(trainer_project.entry.folder, skill, [f"real-t{i}" for i in range(4)], [f"real{i}" for i in range(8)])

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, _ = _parts(messages)
        return OfflineReply(text="no" if "single word no" in system else "OK")

    def optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        if REFLECT_MARK not in system or wrong not in user:
            return OfflineReply(text='{"edits": []}')
        return OfflineReply(text=json.dumps({"edits": [{"op": "replace", "target": wrong, "text": "Answer OK.",
                                                          "rationale": "the rule is wrong"}]}))

    register_offline_model("floor-target", target)
    register_offline_model("floor-optimizer", optimizer)
    seen, result = await _run(trainer_project, "floor-target", "floor-optimizer", edit_whole=True)
    accepted = [e for e in seen if isinstance(e, SkillAccepted)]
    assert accepted and accepted[0].step == 1
    assert wrong not in (result["run"] / "skills" / f"skill_v{accepted[0].version:04d}.md").read_text()


async def test_an_explicit_floor_refuses_and_says_which_limit(trainer_project: TrainerProject) -> None:
    wrong = "Always answer with the single word no, whatever the task says, because caution is the safest choice."
    skill = FRONT + "Answer the task.\n\n" + wrong + "\n"
    _write_dataset(trainer_project.entry.folder, skill, [f"real-t{i}" for i in range(4)], [f"real{i}" for i in range(8)])

    def optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        if REFLECT_MARK not in messages[0]["content"]:
            return OfflineReply(text='{"edits": []}')
        return OfflineReply(text=json.dumps({"edits": [{"op": "replace", "target": wrong, "text": "Answer OK."}]}))

    register_offline_model("floor2-target", lambda m, t, p: OfflineReply(text="no" if "single word no" in m[0]["content"] else "OK"))
    register_offline_model("floor2-optimizer", optimizer)
    _, result = await _run(trainer_project, "floor2-target", "floor2-optimizer", min_tokens=200, edit_whole=True)
    report = json.loads((result["run"] / "steps/step_0001/edit_apply_report.json").read_text())
    assert report[0]["status"] == "refused"
    assert report[0]["reason"].startswith("min_tokens floor set for this run") and "floor 200" in report[0]["reason"]
    assert result["summary"]["accepted_steps"] == []


def _credit_scene(trainer_project: TrainerProject, name: str) -> list[str]:
    """Rule A fixes six validation items; rule B fixes one and breaks another; both are proposed in one step."""
    fixed_by_a = [f"a{i}" for i in range(6)]
    _write_dataset(trainer_project.entry.folder, FRONT + "Answer the task.\n", [f"a-t{i}" for i in range(4)],
                   fixed_by_a + ["b0", "c0", "steady0"])

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        item = user.split()[-1]
        if item.startswith("a"):
            ok = "RULE-A" in system
        elif item == "b0":
            ok = "RULE-B" in system
        elif item == "c0":
            ok = "RULE-B" not in system
        else:
            ok = True
        return OfflineReply(text="OK" if ok else "no")

    def optimizer(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        if REFLECT_MARK not in system or "RULE-A" in user.split("TRAJECTORIES:")[0]:
            return OfflineReply(text='{"edits": []}')
        return OfflineReply(text=json.dumps({"edits": [{"op": "append", "text": "RULE-A: answer OK."},
                                                       {"op": "append", "text": "RULE-B: answer OK too."}]}))

    register_offline_model(f"{name}-target", target)
    register_offline_model(f"{name}-optimizer", optimizer)
    return fixed_by_a


def _check_credit(credit_list: list[dict], fixed_by_a: list[str]) -> None:
    credit = {entry["text"]: entry for entry in credit_list}
    assert credit["RULE-A: answer OK."]["fixed"] == [f"val-{i}" for i in fixed_by_a]
    assert credit["RULE-A: answer OK."]["broke"] == []
    assert credit["RULE-B: answer OK too."]["fixed"] == ["val-b0"] and credit["RULE-B: answer OK too."]["broke"] == ["val-c0"]


async def test_each_edit_of_an_accepted_step_gets_credit_for_what_it_fixed_and_broke(trainer_project: TrainerProject) -> None:
    fixed_by_a = _credit_scene(trainer_project, "credit")
    seen, result = await _run(trainer_project, "credit-target", "credit-optimizer")
    assert result["summary"]["accepted_steps"] == [1]
    (scored,) = [e for e in seen if isinstance(e, CreditScored)]
    assert (scored.step, scored.version) == (1, 2)
    _check_credit(scored.credit, fixed_by_a)
    step = next(e for e in seen if isinstance(e, StepFinished) and e.step == 1)
    assert step.record["credit_pending"] is True
    record = json.loads((result["run"] / "steps/step_0001/record.json").read_text())
    assert record["credit"] == scored.credit and "credit_pending" not in record
    state = json.loads((result["run"] / "runtime_state.json").read_text())
    assert state["accepted"][0]["credit"] == scored.credit and state["pending_credit"] == []


async def test_credit_waits_until_the_steps_are_done_so_the_next_step_is_not_delayed(trainer_project: TrainerProject) -> None:
    # What was measured: the credit of step 1 (about 72 target calls on the benchmark) ran before step 2 could
    # start, the main cost before validation reached 0.8. It decides nothing, so it runs after the last step.
    _credit_scene(trainer_project, "late")
    seen, _ = await _run(trainer_project, "late-target", "late-optimizer", epochs=2)
    order = [type(e).__name__ for e in seen]
    last_step = max(i for i, name in enumerate(order) if name == "StepFinished")
    credit_at = order.index("CreditScored")
    assert credit_at > last_step and credit_at < order.index("TestScored")
    credit_rollouts = [i for i, e in enumerate(seen) if isinstance(e, RolloutProgress) and e.stage == "val:credit"]
    assert credit_rollouts and min(credit_rollouts) > last_step


async def test_a_run_stopped_before_its_credit_is_scored_scores_it_on_resume(trainer_project: TrainerProject) -> None:
    fixed_by_a = _credit_scene(trainer_project, "resume-credit")
    holder: dict[str, object] = {}
    seen: list[object] = []

    def watch(event: object) -> None:
        seen.append(event)
        if isinstance(event, RolloutProgress) and event.stage == "val:credit":
            holder["trainer"].request_stop()  # type: ignore[attr-defined]

    first = trainer_project.start(trainer_project.config(target="offline/resume-credit-target", batch=4, slow_tasks=2,
                                                         optimizer="offline/resume-credit-optimizer"), watch, concurrency=1)
    holder["trainer"] = first.trainer
    stopped = await first.trainer.run(NO_ESTIMATE)
    assert stopped["stop_reason"] == "stopped by the user"
    assert not [e for e in seen if isinstance(e, CreditScored)]
    state = json.loads((first.run.path / "runtime_state.json").read_text())
    assert [entry["step"] for entry in state["pending_credit"]] == [1]
    again: list[object] = []
    resumed = trainer_project.resume(first.run.path, again.append)
    estimate = resumed.trainer.estimate(lambda spec, prompt, completion: 0.0)
    summary = await resumed.trainer.run(estimate, resumed=True)
    assert summary["completed"]
    segment = summary["spent"]["calls"] - stopped["spent"]["calls"]
    assert abs(estimate.calls - segment) <= 0.25 * segment, (estimate, segment)
    (scored,) = [e for e in again if isinstance(e, CreditScored)]
    _check_credit(scored.credit, fixed_by_a)
    state = json.loads((first.run.path / "runtime_state.json").read_text())
    assert state["pending_credit"] == [] and state["accepted"][0]["credit"] == scored.credit


def _slip_scene(trainer_project: TrainerProject, name: str, fixed: int, slip_passes_for_incumbent: bool) -> list[float]:
    """A rule that truly fixes `fixed` + 1 validation items; at temperature 0 the candidate's wording makes the target
    slip on one item (an answer that a fresh draw gets right, as a real model's prompt sensitivity does). Returns the
    temperatures of the target's calls."""
    real = [f"real{i}" for i in range(fixed)]
    _write_dataset(trainer_project.entry.folder, FRONT + "Answer the task.\n", [f"real-t{i}" for i in range(4)],
                   real + ["slip0", "steady0"])
    temperatures: list[float] = []

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        system, user = _parts(messages)
        temperature = float(params.get("temperature") or 0.0)
        temperatures.append(temperature)
        fixed_rule = "FIX-RULE" in system
        if "slip0" in user:
            ok = (fixed_rule and temperature > 0) or (not fixed_rule and slip_passes_for_incumbent)
        else:
            ok = "steady" in user or fixed_rule
        return OfflineReply(text="OK" if ok else "no")

    register_offline_model(f"{name}-target", target)
    register_offline_model(f"{name}-optimizer", _optimizer_appending("FIX-RULE: answer OK."))
    return temperatures


async def test_more_samples_are_fresh_draws_so_a_slip_of_the_candidate_is_not_taken_for_a_regression(
        trainer_project: TrainerProject) -> None:
    # What was measured: a true improvement (+5/-2 on 28 items, the 2 being the candidate's slips at temperature 0)
    # stayed within the noise after 2 rounds, because each extra sample was asked at temperature 0 again and got
    # the same answer. Extra samples are now drawn at a temperature above 0.
    temperatures = _slip_scene(trainer_project, "draw", fixed=4, slip_passes_for_incumbent=True)
    seen, _ = await _run(trainer_project, "draw-target", "draw-optimizer")
    gate = next(e for e in seen if isinstance(e, GateDecided))
    assert gate.action == "accept", gate.reason
    first_round = gate.evidence["rounds"][0]
    assert first_round["p_before"] == 0.1875 and first_round["p_after"] <= 0.1
    assert 0.0 in temperatures and 0.7 in temperatures
    # the same scene, extra samples at temperature 0 as before: within the noise however many rounds
    trainer_project.project.store.delete(f"skills/{DEMO}/SKILL.md", message="test: back to the seed skill")
    seen, _ = await _run(trainer_project, "draw-target", "draw-optimizer", gate_temperature=0.0)
    gate = next(e for e in seen if isinstance(e, GateDecided))
    assert gate.action == "undecided" and gate.evidence["p_value"] == 0.188


async def test_more_samples_also_go_to_items_both_skills_failed_where_a_slip_can_hide_a_fix(
        trainer_project: TrainerProject) -> None:
    # What was measured: a rule that fixes the 4 currency items of 28 was shown +3/-1 and never accepted, because
    # the fourth fix was hidden by a slip of the candidate on an item the incumbent failed too, and only flipped
    # items were sampled again. Those items are sampled again now as well.
    _slip_scene(trainer_project, "hidden", fixed=3, slip_passes_for_incumbent=False)
    seen, _ = await _run(trainer_project, "hidden-target", "hidden-optimizer")
    gate = next(e for e in seen if isinstance(e, GateDecided))
    assert gate.action == "accept", gate.reason
    assert gate.evidence["rounds"][0]["p_before"] == 0.125 and gate.evidence["improved"] == 4
    # sampling only the flipped items again, the hidden fix stays hidden
    trainer_project.project.store.delete(f"skills/{DEMO}/SKILL.md", message="test: back to the seed skill")
    seen, _ = await _run(trainer_project, "hidden-target", "hidden-optimizer", gate_resample="flipped")
    gate = next(e for e in seen if isinstance(e, GateDecided))
    assert gate.action == "undecided" and gate.evidence["p_value"] == 0.125 and gate.evidence["improved"] == 3
