"""Every session-store write of a turn runs off the event loop (in the TUI that loop also handles the keys)."""

from __future__ import annotations

import json
import threading

from mimo_tui.agent import events as ev
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def trace_writes(agent: object) -> list[tuple[str, int]]:
    """(statement, thread id) of every write on the store's real sqlite connection (sqlite3's own trace hook)."""
    seen: list[tuple[str, int]] = []

    def record(statement: str) -> None:
        if statement.lstrip().upper().startswith(WRITES):
            seen.append((statement, threading.get_ident()))

    agent.sessions._db.set_trace_callback(record)  # type: ignore[attr-defined]
    return seen


async def test_a_turn_with_a_tool_call_writes_sqlite_only_off_the_event_loop(
    agent_project: AgentProject, openai_server: LocalOpenAIServer
) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(text="Let me look.", tool_calls=[ToolCall("read_file", json.dumps({"path": "missing.txt"}))]),
        Reply(text="There is no such file."),
    )
    agent = agent_project.open(RecordedEvents(answers=["once"]))
    loop_thread = threading.get_ident()
    writes = trace_writes(agent)

    assert await agent.run_turn("read missing.txt") == ev.TURN_DONE
    agent.set_mode("plan")
    agent.set_model(agent.spec)
    agent.flush_writes()

    statements = " | ".join(statement for statement, _ in writes)
    for expected in ("UPDATE sessions SET title", "INSERT INTO messages", "UPDATE messages SET content",
                     "INSERT INTO usage", "UPDATE sessions SET mode", "UPDATE sessions SET model"):
        assert expected in statements, f"{expected!r} not among the writes: {statements}"
    on_loop = [statement for statement, thread in writes if thread == loop_thread]
    assert on_loop == [], f"written on the event loop: {on_loop}"
    stored = agent_project.services.sessions
    assert stored.get(agent.session_id).mode == "plan"  # type: ignore[union-attr]
    assert [m.role for m in stored.messages(agent.session_id)] == ["user", "assistant", "tool", "assistant"]


async def test_a_cancelled_stream_stores_its_partial_reply_off_the_event_loop(
    agent_project: AgentProject, openai_server: LocalOpenAIServer
) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(Reply(text="a long answer " * 50))
    agent = None

    def cancel_on_first_text(event: object) -> None:
        if isinstance(event, ev.TextDeltaEvent) and agent is not None:
            agent.cancel()

    agent = agent_project.open(cancel_on_first_text)
    loop_thread = threading.get_ident()
    writes = trace_writes(agent)

    assert await agent.run_turn("say a lot") == ev.TURN_CANCELLED

    assert writes, "the turn wrote nothing"
    on_loop = [statement for statement, thread in writes if thread == loop_thread]
    assert on_loop == [], f"written on the event loop: {on_loop}"
    stored = agent_project.services.sessions.messages(agent.session_id)
    assert [(m.role, m.status) for m in stored][-1] == ("assistant", "interrupted")
