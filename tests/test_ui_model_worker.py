"""The app's model calls run in its model worker process: litellm stays out of the UI process,
Esc stops a stream in the worker, a worker that dies ends the turn with a Retry, and none outlives the app."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.error_block import ErrorBlock
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.openai_server import LocalOpenAIServer, Reply

ROOT = Path(__file__).resolve().parent.parent
SIZE = (110, 36)


def use_server(project: AgentProject, server: LocalOpenAIServer) -> None:
    project.write_config(f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n')


def assistant_text(app) -> str:
    return "\n".join(block.source for block in app.query(AssistantMessage))


def test_a_full_turn_with_tool_calls_never_imports_litellm_in_the_ui_process() -> None:
    # A fresh interpreter: in this one, other tests may already have imported litellm.
    probe = "tests/probes/ui_turn_in_fresh_process.py"
    done = subprocess.run([sys.executable, "-m", "pytest", probe, "-o", "addopts=", "-q", "-p", "no:cacheprovider"], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


async def test_escape_stops_the_stream_in_the_worker_at_once(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="word " * 2000, chunk_size=5, chunk_delay=0.01))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "talk a lot")
        await wait_until(pilot, lambda: "word word" in assistant_text(app), what="streaming to begin")
        assert openai_server.in_flight == 1
        pressed = time.perf_counter()
        await pilot.press("escape")
        await wait_until(pilot, lambda: openai_server.in_flight == 0, timeout=5, what="the provider stream to close")
        assert time.perf_counter() - pressed < 0.5
        await wait_idle(pilot)
        assert list(app.query(AssistantMessage))[-1].has_class("interrupted")
        assert app.model_worker.pid is not None  # the worker itself lives on


async def test_a_worker_that_dies_mid_turn_ends_it_with_an_error_and_retry(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="a short answer"), Reply(text="word " * 2000, chunk_size=5, chunk_delay=0.01),
                        Reply(text="the answer after the restart"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "a question")
        await wait_idle(pilot)
        await send(pilot, "talk a lot")
        await wait_until(pilot, lambda: "word word" in assistant_text(app), what="streaming to begin")
        first_pid = app.model_worker.pid
        os.kill(first_pid, signal.SIGKILL)
        await wait_idle(pilot)
        error = app.query_one(ErrorBlock)
        assert "model worker stopped" in error.message and error.retryable
        stored = pane.services.sessions.messages(pane.agent.session_id)
        assert stored[-1].role == "assistant" and stored[-1].content.startswith("word word")
        await wait_until(pilot, lambda: app.model_worker.is_ready and app.model_worker.pid != first_pid, timeout=30,
                         what="a new worker")
        await pilot.click("#retry")
        await wait_until(pilot, lambda: "the answer after the restart" in assistant_text(app), timeout=20,
                         what="the retried answer")
        await wait_idle(pilot)  # the text shows before the call's last frame carries its totals
        assert app.model_worker.restarts == 1
        # Spend counted before the crash is kept: one call on each worker, the killed stream as an error.
        assert pane.gateway.totals.errors == 1 and pane.gateway.totals.calls == 2


WORKER_OWNER = """
import asyncio, sys, time
from mimo_tui.llm.worker_client import ModelWorker

async def main():
    worker = ModelWorker()
    await worker.start()
    print(worker.pid, flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def test_the_worker_dies_with_the_app_even_when_the_app_is_killed() -> None:
    owner = subprocess.Popen([sys.executable, "-c", WORKER_OWNER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        worker_pid = int(owner.stdout.readline())
        os.kill(worker_pid, 0)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not Path(f"/proc/{worker_pid}").exists() or "Z" in Path(f"/proc/{worker_pid}/stat").read_text().split()[2]:
            return
        time.sleep(0.05)
    raise AssertionError(f"model worker {worker_pid} outlived its app by 5 s")
