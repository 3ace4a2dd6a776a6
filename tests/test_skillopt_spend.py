"""Hard caps across crashes: every provider request is journaled before it is sent, so a killed and resumed
run never serves more than --max-calls / --max-usd, and its summary counts what the provider served."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mimo_tui.llm import OfflineReply, register_offline_model
from mimo_tui.llm.runtime import load_litellm
from mimo_tui.skillopt import offline_models
from mimo_tui.skillopt.budget import BudgetExhausted, CostEstimate
from mimo_tui.skillopt.prompts import REFLECT_MARK, SLOW_MARK
from mimo_tui.skillopt.run_folder import list_runs
from mimo_tui.skillopt.spend import JOURNAL, SpendLedger, read_spend
from tests.fixtures.shout_skill import write_shout_skill
from tests.fixtures.openai_server import ErrorReply, LocalOpenAIServer, Reply, _prompt_tokens
from tests.fixtures.skillopt_project import TrainerProject

NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)
ROOT = Path(__file__).resolve().parent.parent

def _write_skill(folder: Path) -> None:
    write_shout_skill(folder, train=9, val=6, test=3)


def _responder(body: dict) -> Reply | ErrorReply:
    """Target and optimizer in one; "ember" fails with a retryable 503, so retries are provider requests too."""
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    if REFLECT_MARK in system:
        if "uppercase" in user.split("TRAJECTORIES:")[0]:
            return Reply(text='{"edits": [{"op": "append", "text": "Answer with the single word only.", "rationale": "r"}]}')
        return Reply(text=json.dumps({"edits": [
            {"op": "append", "text": "Write the word in uppercase letters.", "rationale": "outputs were lowercase"}]}))
    if SLOW_MARK in system:
        return Reply(text='{"guidance": "Uppercase answers pass."}')
    word = user.removeprefix("word: ")
    if word == "ember":  # Retry-After keeps each retry's wait short (the client's own backoff is 0.25-1 s a retry)
        return ErrorReply(status=503, message="overloaded", retry_after=0.01)
    return Reply(text=word.upper() if "uppercase" in system else word)


def _served_usd(server: LocalOpenAIServer, model: str) -> float:
    """What the provider would bill for the successful requests it served, at litellm's price for `model`."""
    litellm = load_litellm()
    total = 0.0
    for body in server.requests:
        reply = _responder(body)
        if isinstance(reply, Reply):
            prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=_prompt_tokens(body),
                                                        completion_tokens=len(reply.text.split()))
            total += prompt + completion
    return total


class CliProject:
    """A project folder with the `shout` skill and a user config whose models are served by the local server."""

    def __init__(self, tmp_path: Path, server: LocalOpenAIServer, model: str = "openai/test", retries: int = 1) -> None:
        self.root = tmp_path / "proj"
        self.root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=self.root, check=True)
        _write_skill(self.root / ".claude" / "skills" / "shout")
        config = tmp_path / "user-config.toml"
        config.write_text(
            f'[llm]\nmax_concurrency = 4\nmax_retries = {retries}\ntimeout_s = 10.0\n\n'
            f'[models.srv]\nmodel = "{model}"\napi_base = "{server.base_url}"\napi_key = "env:SRV_KEY"\n'
        )
        self.env = {**os.environ, "MIMO_CONFIG": str(config), "SRV_KEY": "sk-test", "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
                    "XDG_DATA_HOME": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "mimo_tui", "skill", "train", *args], cwd=self.root, env=self.env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        process = self.start(*args)
        out, err = process.communicate(timeout=240)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def run_dir(self) -> Path:
        runs = list((self.root / ".mimo" / "runs").iterdir())
        assert len(runs) == 1, runs
        return runs[0]


def _kill_when_served(process: subprocess.Popen[str], server: LocalOpenAIServer, served: int) -> int:
    deadline = time.monotonic() + 120
    while len(server.requests) < served:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the run did not reach the kill point"
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return len(server.requests)


def test_kill_9_and_resume_never_serve_more_than_max_calls(tmp_path: Path, openai_server: LocalOpenAIServer) -> None:
    openai_server.responder = _responder
    openai_server.latency = 0.02
    project = CliProject(tmp_path, openai_server)
    cap = 50
    args = ("--target", "srv", "--optimizer", "srv", "--epochs", "4", "--batch", "3", "--max-calls", str(cap))
    first = project.start("shout", *args)
    _kill_when_served(first, openai_server, 30)
    run = project.run_dir()
    assert not (run / "summary.json").exists()
    resumed = project.run("--resume", run.name, "--max-calls", str(cap))
    assert resumed.returncode == 3, resumed.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stop_reason"] == f"call cap reached ({cap} calls)"
    served = len(openai_server.requests)
    assert served <= cap
    # Requests journaled but not yet on the wire at the kill count too: at most the 4 in flight + 2 reserved ahead.
    assert served <= summary["spent"]["calls"] <= min(cap, served + 6)
    assert summary["spent"]["calls"] - served <= summary["spent"]["cut_by_crash"] <= 6
    assert f"spent: {summary['spent']['calls']} calls" in resumed.stdout
    # A second resume spends nothing more: the cap is already used up.
    again = project.run("--resume", run.name)
    assert again.returncode == 3 and len(openai_server.requests) == served


def test_summary_counts_every_request_the_provider_served(tmp_path: Path, openai_server: LocalOpenAIServer) -> None:
    """Retries of a failing request and failed requests are provider calls; cache hits are not."""
    openai_server.responder = _responder
    project = CliProject(tmp_path, openai_server, retries=2)
    done = project.run("shout", "--target", "srv", "--optimizer", "srv", "--epochs", "1", "--batch", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((project.run_dir() / "summary.json").read_text())
    embers = [b for b in openai_server.requests if b["messages"][-1]["content"] == "word: ember"]
    assert embers and len(embers) % 3 == 0  # each ember call: the request and two retries
    assert summary["spent"]["calls"] == len(openai_server.requests)
    assert summary["spent"]["cache_hits_this_segment"] > 0
    assert not [b for b in openai_server.requests if "max_tokens" in b]  # requests unchanged without --max-output-tokens


def test_kill_9_and_resume_never_spend_more_than_max_usd(tmp_path: Path, openai_server: LocalOpenAIServer) -> None:
    openai_server.responder = _responder
    openai_server.latency = 0.02
    model = "openai/gpt-4o"  # priced in litellm's list, served by the local server
    project = CliProject(tmp_path, openai_server, model=model, retries=0)
    cap = 0.005
    args = ("--target", "srv", "--optimizer", "srv", "--epochs", "4", "--batch", "3", "--max-usd", str(cap),
            "--max-output-tokens", "40")
    first = project.start("shout", *args)
    _kill_when_served(first, openai_server, 25)
    run = project.run_dir()
    resumed = project.run("--resume", run.name)
    assert resumed.returncode == 3, resumed.stderr[-2000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stop_reason"] == f"dollar cap reached (${cap:g})"
    billed = _served_usd(openai_server, model)
    assert billed <= cap
    assert billed - 1e-9 <= summary["spent"]["usd"] <= cap
    assert all(b.get("max_tokens") == 40 for b in openai_server.requests)


# Cancelling litellm mid-call leaves one of its internal coroutines unawaited; that is the crash being simulated.
@pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
async def test_offline_models_count_the_same_way_across_crashes_at_random_calls(trainer_project: TrainerProject) -> None:
    invoked: Counter[str] = Counter()

    def counting(name: str, handler):
        def wrapped(messages: list[dict], tools: object, params: dict) -> OfflineReply:
            invoked[name] += 1
            return handler(messages, tools, params)
        return wrapped

    register_offline_model("spend-target", counting("target", offline_models._target))
    register_offline_model("spend-optimizer", counting("optimizer", offline_models._optimizer))
    config = trainer_project.config(target="offline/spend-target", optimizer="offline/spend-optimizer", max_calls=70,
                                    epochs=2)
    rng = random.Random(7)
    prepared = trainer_project.start(config)
    for crash in range(3):
        kill_at = sum(invoked.values()) + rng.randrange(3, 15)
        trainer = prepared.trainer

        def kill(_record: object, trainer=trainer, kill_at=kill_at) -> None:
            if sum(invoked.values()) >= kill_at:
                task.cancel()

        original = trainer.gateway.on_call  # the hook fires inside the gateway, at a random call

        def on_call(record: object, original=original, hook=kill) -> None:
            original(record)
            hook(record)

        trainer.gateway.on_call = on_call
        task = asyncio.ensure_future(trainer.run(NO_ESTIMATE, resumed=crash > 0))
        try:
            await task
        except asyncio.CancelledError:
            pass
        await asyncio.sleep(0.05)
        prepared = trainer_project.resume(prepared.run.path)
    summary = await prepared.trainer.run(NO_ESTIMATE, resumed=True)
    served = sum(invoked.values())
    assert summary["stop_reason"] == "call cap reached (70 calls)"
    assert served <= 70
    assert served <= summary["spent"]["calls"] <= 70
    assert read_spend(prepared.run.path).calls == summary["spent"]["calls"]
    assert list_runs(trainer_project.project.workspace.runs_dir)[0].path == prepared.run.path


async def test_parallel_reservations_take_the_last_room_once(tmp_path: Path) -> None:
    ledger = SpendLedger(tmp_path, max_calls=10)
    sent: list[int] = []

    async def request(n: int) -> None:
        reservation = await ledger.reserve("m", 0.0)
        await asyncio.sleep(random.random() / 100)
        sent.append(n)
        ledger.settle(reservation, 1, 0.0)

    results = await asyncio.gather(*(request(n) for n in range(40)), return_exceptions=True)
    refused = [r for r in results if isinstance(r, BudgetExhausted)]
    assert len(sent) == 10 and len(refused) == 30
    assert read_spend(tmp_path).calls == 10 and SpendLedger(tmp_path, max_calls=10).calls == 10


async def test_calls_in_flight_hold_room_until_they_settle_but_never_stop_the_run_early(tmp_path: Path) -> None:
    """Each request may cost up to $0.40 and costs $0.10: six fit under $1, though only two fit reserved at once."""
    ledger = SpendLedger(tmp_path, max_usd=1.0)
    sent: list[int] = []

    async def request(n: int) -> None:
        reservation = await ledger.reserve("m", 0.4)
        assert ledger.usd <= 1.0
        await asyncio.sleep(0.01)
        sent.append(n)
        ledger.settle(reservation, 1, 0.1)

    await asyncio.gather(*(request(n) for n in range(6)))
    assert sorted(sent) == list(range(6)) and round(ledger.usd, 6) == 0.6
    results = await asyncio.gather(*(request(n) for n in range(6, 12)), return_exceptions=True)
    # One more fits ($0.60 spent + a $0.40 bound); then $0.30 is left, less than a request may cost.
    assert results[0] is None and all(str(r) == "dollar cap reached ($1)" for r in results[1:])
    assert round(read_spend(tmp_path).usd, 6) == 0.7 and len(sent) == 7


def test_journal_torn_by_a_crash_counts_the_reservation_and_keeps_later_records(tmp_path: Path) -> None:
    (tmp_path / JOURNAL).write_text('{"op":"reserve","id":"a-1","model":"m","usd":0.5}\n{"op":"settle","id":"a-1","ca')
    ledger = SpendLedger(tmp_path, max_usd=2.0)
    assert ledger.calls == 1 and ledger.usd == 0.5  # the settle was torn: the reservation stands
    reservation = asyncio.run(ledger.reserve("m", 1.0))
    ledger.settle(reservation, 1, 0.25, 100, 10)
    spent = read_spend(tmp_path)
    assert (spent.calls, spent.usd, spent.prompt_tokens, spent.unsettled) == (2, 0.75, 100, 1)


async def test_no_request_is_sent_when_the_journal_cannot_be_written(trainer_project: TrainerProject) -> None:
    invoked: Counter[str] = Counter()

    def target(messages: list[dict], tools: object, params: dict) -> OfflineReply:
        invoked["target"] += 1
        return offline_models._target(messages, tools, params)

    register_offline_model("journal-target", target)
    prepared = trainer_project.start(trainer_project.config(target="offline/journal-target"))
    (prepared.run.path / JOURNAL).mkdir()  # the journal cannot be opened for writing
    summary = await prepared.trainer.run(NO_ESTIMATE)
    assert summary["stop_reason"].startswith(f"cannot record spend in {prepared.run.path / JOURNAL}")
    assert "no request is sent without it" in summary["stop_reason"] and invoked["target"] == 0


async def test_a_run_from_before_journals_keeps_its_recorded_spend(trainer_project: TrainerProject) -> None:
    prepared = trainer_project.start(trainer_project.config(max_calls=20))
    first = await prepared.trainer.run(NO_ESTIMATE)
    assert first["spent"]["calls"] == 20
    (prepared.run.path / JOURNAL).unlink()  # as a run made by an older mimo left it: spend in runtime_state.json only
    config = json.loads((prepared.run.path / "config.json").read_text())
    (prepared.run.path / "config.json").write_text(json.dumps(config | {"max_calls": 26}))
    resumed = trainer_project.resume(prepared.run.path)
    summary = await resumed.trainer.run(NO_ESTIMATE, resumed=True)
    assert summary["stop_reason"] == "call cap reached (26 calls)"
    assert resumed.trainer.gateway.totals.calls == 6 and summary["spent"]["calls"] == 26
    assert read_spend(prepared.run.path).calls == 26


async def test_a_dollar_cap_below_one_call_says_what_to_change(tmp_path: Path, openai_server: LocalOpenAIServer,
                                                              trainer_project: TrainerProject) -> None:
    openai_server.responder = _responder
    models = {"priced": {"model": "openai/gpt-4o", "api_base": openai_server.base_url, "api_key": "sk-test"}}
    prepared = trainer_project.start(trainer_project.config(target="priced", optimizer="priced", max_usd=0.01), models=models)
    summary = await prepared.trainer.run(NO_ESTIMATE)
    assert summary["stop_reason"].startswith("dollar cap reached ($0.01): one call to openai/gpt-4o may cost up to $0.16")
    assert "raise --max-usd or lower --max-output-tokens" in summary["stop_reason"]
    assert openai_server.requests == [] and summary["spent"]["usd"] == 0.0
