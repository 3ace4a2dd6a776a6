"""Tool bodies (files, sqlite, git commits) run in worker threads, and a cancel never half-reports a write."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.agent.tools.base import ToolContext
from mimo_tui.agent.tools.files import ReadFile, WriteFile
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


async def test_task_and_memory_tools_commit_from_a_worker_thread(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("task", json.dumps({"op": "create", "title": "Write the parser"}))]),
        Reply(tool_calls=[ToolCall("memory", json.dumps({"op": "note", "text": "parser goes in src/"}))]),
        Reply(text="noted"),
    )
    agent = agent_project.open(RecordedEvents(answers=["once", "once"]))
    loop_thread = threading.current_thread()
    writers: list[tuple[str, threading.Thread]] = []
    services = agent_project.services
    services.tasks.subscribe(lambda change: writers.append(("task", threading.current_thread())))
    services.project.store.subscribe(lambda change: writers.append((change.relpath, threading.current_thread())))

    assert await agent.run_turn("plan it and note it") == ev.TURN_DONE

    assert [name for name, _ in writers if name == "task"], "the task tool's create reached the store"
    assert any(name.endswith("/notes.md") for name, _ in writers), writers
    assert all(thread is not loop_thread for _, thread in writers), writers
    assert services.tasks.list(agent.session_id)[0].title == "Write the parser"


async def test_a_write_cancelled_while_running_finishes_and_reports_what_it_did(tmp_path: Path) -> None:
    ctx = ToolContext(project_root=tmp_path, session_id="s1")
    running = asyncio.create_task(WriteFile().run({"path": "out.txt", "content": "kept\n"}, ctx))
    await asyncio.sleep(0)  # the worker thread has been handed the write
    running.cancel()
    result = await running
    assert not result.is_error and result.summary == "created out.txt"
    assert (tmp_path / "out.txt").read_text() == "kept\n"


async def test_a_read_cancelled_while_running_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("line\n" * 200_000)
    ctx = ToolContext(project_root=tmp_path, session_id="s1")
    running = asyncio.create_task(ReadFile().run({"path": "big.txt"}, ctx))
    await asyncio.sleep(0)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_esc_during_a_write_keeps_its_real_result_and_ends_the_turn(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    agent_project.write_config(
        (agent_project.root / ".mimo" / "config.toml").read_text() + '\n[permissions]\nrules = [{tool = "write_file", pattern = "*", action = "allow"}]\n'
    )
    openai_server.queue(Reply(tool_calls=[ToolCall("write_file", json.dumps({"path": "notes.txt", "content": "written\n"}))]))
    agent = None

    def cancel_when_the_write_starts(event: object) -> None:
        if isinstance(event, ev.ToolCallStarted) and agent is not None:
            agent.cancel()

    agent = agent_project.open(cancel_when_the_write_starts)

    assert await agent.run_turn("write it") == ev.TURN_CANCELLED

    assert (agent_project.root / "notes.txt").read_text() == "written\n"
    stored = agent_project.services.sessions.messages(agent.session_id)
    tool_rows = [m for m in stored if m.role == "tool"]
    assert [m.content for m in tool_rows] == ["created notes.txt (1 lines)"]
    assert len(openai_server.requests) == 1

    # the same task runs the next turn with no cancel left over
    openai_server.queue(Reply(text="fine"))
    agent.subscriber = RecordedEvents()
    assert await agent.run_turn("go on") == ev.TURN_DONE
