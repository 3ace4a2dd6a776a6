"""A run through litellm against the real local OpenAI-compatible server, with scripted target and optimizer."""

from __future__ import annotations

import json
from pathlib import Path

from mimo_tui.llm import Gateway, ResponseCache
from mimo_tui.project import Project
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.catalogue import SkillEntry
from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.prompts import REFLECT_MARK, SLOW_MARK
from mimo_tui.skillopt.run_folder import read_events
from mimo_tui.skillopt.session import new_run, skill_relpath
from tests.fixtures.shout_skill import SKILL, WORDS as SHOUT_WORDS, write_shout_skill
from tests.fixtures.openai_server import ErrorReply, LocalOpenAIServer, Reply

WORDS = SHOUT_WORDS[:14]


def _dataset(folder: Path) -> None:
    write_shout_skill(folder, train=6, val=7, test=1)


def _responder(body: dict) -> Reply | ErrorReply:
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    if REFLECT_MARK in system:
        if "uppercase" in user.split("TRAJECTORIES:")[0]:
            return Reply(text='{"edits": []}')
        return Reply(text=json.dumps({"edits": [
            {"op": "append", "text": "Write the word in uppercase letters.", "rationale": "outputs were lowercase"},
            {"op": "replace", "target": "no such line", "text": "x"},
        ]}))
    if SLOW_MARK in system:
        return Reply(text='{"guidance": "Uppercase answers pass."}')
    word = user.removeprefix("word: ")
    if word.startswith("ember"):
        return ErrorReply(status=400, message="content policy")
    return Reply(text=word.upper() if "uppercase" in system else word)


async def test_training_through_litellm_against_the_local_server(tmp_path: Path, openai_server: LocalOpenAIServer,
                                                                  litellm_loaded: None, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "proj").mkdir()
    project = Project.open(tmp_path / "proj")
    folder = tmp_path / "skills" / "shout"
    _dataset(folder)
    openai_server.responder = _responder
    endpoint = {"model": "openai/test", "api_base": openai_server.base_url, "api_key": "sk-test"}
    models = {"srv-target": endpoint, "srv-optimizer": endpoint}
    config = TrainConfig(skill="shout", target="srv-target", optimizer="srv-optimizer", epochs=1, batch=3,
                         slow_tasks=3, min_tokens=10)

    def gateway(cache: ResponseCache) -> Gateway:
        return Gateway(max_concurrency=4, max_retries=1, timeout_s=10, cache=cache, backoff_base_s=0.01, backoff_max_s=0.02)

    prepared = new_run(config, project.store, project.workspace.runs_dir, SkillEntry("shout", "", folder, "test", folder / "eval"),
                       models, gateway)
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert summary["completed"]
    assert summary["accepted_steps"] == [1]
    assert summary["test"]["baseline"]["score"] == 0.0 and summary["test"]["final"]["score"] == 1.0
    assert "uppercase" in prepared.run.read_skill_version(summary["test"]["final"]["version"])
    events = read_events(prepared.run.path)
    built = next(e for e in events if e["type"] == "candidate_built")
    assert built["skipped"][0]["reason"] == "target not found in the skill"
    gate = next(e for e in events if e["type"] == "gate_decided")
    # "ember" always errors: it is missing data (coverage 6/7), not a zero, and has no flip.
    assert gate["action"] == "accept" and gate["coverage"] == 6 / 7 and "val-ember" not in gate["items"]
    assert gate["evidence"]["improved"] == 6 and gate["evidence"]["p_value"] == 0.0156
    assert any(e["type"] == "error" and "val-ember" in e["message"] for e in events)
    reflect_bodies = [b for b in openai_server.requests if REFLECT_MARK in b["messages"][0]["content"]]
    assert reflect_bodies
    for body in reflect_bodies:
        prompt = json.dumps(body)
        assert "grader" not in prompt and "reference" not in prompt
        # training items show what was expected (the training signal); validation and test answers never appear
        assert not [w for w in WORDS[6:] if w.upper() in prompt], "a held-out reference reached the optimizer"
    assert any(f"expected '{w.upper()}', got '{w}'" in json.dumps(b, ensure_ascii=False).replace('\\"', '"')
               for b in reflect_bodies for w in WORDS[:6])


async def test_dollar_cap_stops_a_priced_run(tmp_path: Path, openai_server: LocalOpenAIServer, litellm_loaded: None,
                                             monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "proj").mkdir()
    project = Project.open(tmp_path / "proj")
    folder = tmp_path / "skills" / "shout"
    _dataset(folder)
    openai_server.responder = _responder
    # A priced model name served by the local server, so litellm's price list gives real dollars.
    endpoint = {"model": "openai/gpt-4o", "api_base": openai_server.base_url, "api_key": "sk-test"}
    # max_output_tokens bounds what a call can cost before it is made (gpt-4o's own limit, 16384, is $0.16 a call).
    config = TrainConfig(skill="shout", target="priced", optimizer="priced", epochs=3, batch=3, slow_tasks=3,
                         min_tokens=10, max_usd=0.003, max_output_tokens=32)

    def gateway(cache: ResponseCache) -> Gateway:
        return Gateway(max_concurrency=4, max_retries=0, timeout_s=10, cache=cache)

    prepared = new_run(config, project.store, project.workspace.runs_dir, SkillEntry("shout", "", folder, "test", folder / "eval"),
                       {"priced": endpoint}, gateway)
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert not summary["completed"]
    assert summary["stop_reason"] == "dollar cap reached ($0.003)"
    assert 0 < summary["spent"]["usd"] <= 0.003
    assert all(body["max_tokens"] == 32 for body in openai_server.requests)
    assert (prepared.run.path / "summary.json").exists()


async def test_llm_judge_grades_through_the_judge_model(tmp_path: Path, openai_server: LocalOpenAIServer,
                                                        litellm_loaded: None) -> None:
    from mimo_tui.skillopt.session import evaluate_skill

    folder = tmp_path / "skills" / "shout"
    _dataset(folder)
    rubric = "The answer must be written entirely in capital letters."
    rows = [{"id": f"test-{w}", "input": f"word: {w}", "grader": {"type": "llm_judge", "rubric": rubric}} for w in ("harbor", "embers")]
    (folder / "eval" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def responder(body: dict) -> Reply | ErrorReply:
        system = body["messages"][0]["content"]
        if system.startswith("You grade answers"):
            answer = body["messages"][-1]["content"].rsplit("ANSWER:\n", 1)[1]
            ok = answer.isupper()
            return Reply(text=f"SCORE: {1 if ok else 0}\nFEEDBACK: " + ("fine" if ok else "The answer must be written entirely in capital letters."))
        return _responder(body)

    openai_server.responder = responder
    endpoint = {"model": "openai/test", "api_base": openai_server.base_url, "api_key": "sk-test"}
    config = TrainConfig(skill="shout", target="srv", judge="srv")

    def gateway(cache: ResponseCache) -> Gateway:
        return Gateway(max_concurrency=4, max_retries=0, timeout_s=10, cache=cache)

    entry = SkillEntry("shout", "", folder, "test", folder / "eval")
    plain = await evaluate_skill(config, entry, SKILL, "test", tmp_path / "work", {"srv": endpoint}, gateway)
    assert plain["score"] == 0.0 and plain["coverage"] == 0.5  # "embers" errors at the target: missing, not zero
    assert plain["failing"] == [("test-harbor", "[hidden]")]  # the judge quoted its rubric: redacted
    shouting = await evaluate_skill(config, entry, SKILL + "\nWrite the word in uppercase.\n", "test", tmp_path / "work",
                                    {"srv": endpoint}, gateway)
    assert shouting["score"] == 1.0 and shouting["passed"] == 1
    judged = [b for b in openai_server.requests if b["messages"][0]["content"].startswith("You grade answers")]
    assert len(judged) == 2 and all(rubric in b["messages"][-1]["content"] for b in judged)


async def test_a_target_that_always_fails_stops_the_run_with_a_reason(tmp_path: Path, openai_server: LocalOpenAIServer,
                                                                       litellm_loaded: None, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "proj").mkdir()
    project = Project.open(tmp_path / "proj")
    folder = tmp_path / "skills" / "shout"
    _dataset(folder)
    openai_server.responder = lambda body: ErrorReply(status=401, message="invalid api key")
    endpoint = {"model": "openai/test", "api_base": openai_server.base_url, "api_key": "sk-wrong"}
    config = TrainConfig(skill="shout", target="srv", optimizer="srv", epochs=1, batch=3, min_tokens=10)

    def gateway(cache: ResponseCache) -> Gateway:
        return Gateway(max_concurrency=4, max_retries=0, timeout_s=10, cache=cache)

    prepared = new_run(config, project.store, project.workspace.runs_dir, SkillEntry("shout", "", folder, "test", folder / "eval"),
                       {"srv": endpoint}, gateway)
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    assert not summary["completed"] and "failed on every validation task" in summary["stop_reason"]
    errors = [e for e in read_events(prepared.run.path) if e["type"] == "error"]
    assert len(errors) == 7 and all("invalid api key" in e["message"] for e in errors)
    assert len(openai_server.requests) == 7
