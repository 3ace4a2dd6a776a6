"""Each session's ordered writer thread: flushed and ended when the session is left (/new, a switch) or, for a
subagent's child session, when its turn ends; not only at exit. Against the real state.db."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

from mimo_tui.project import Project
from mimo_tui.services import Services
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply


def writer_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("session-writes") and t.is_alive()}


async def until(condition, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


def session_row(db: Path, session_id: str) -> tuple[str, str]:
    with sqlite3.connect(db) as connection:  # a connection of its own: what another process would read
        return connection.execute("SELECT mode, model FROM sessions WHERE id = ?", (session_id,)).fetchone()


async def test_leaving_a_session_writes_its_queue_and_ends_its_writer_thread(agent_project: AgentProject) -> None:
    services = Services()
    services.open_stores(Project.open(agent_project.root))
    db = agent_project.root / ".mimo" / "state.db"
    try:
        before = writer_threads()
        first = services.open_session(lambda event: None, model="offline/agent")
        services.make_current(first)
        first.set_mode("plan")  # queued on the session's writer thread, in order
        first.set_mode("compose")
        ours = writer_threads() - before
        assert ours, "the writes went through the session's writer thread"
        second = services.open_session(lambda event: None, model="offline/agent")
        services.make_current(second)  # what /new and a session switch do
        await until(lambda: not (writer_threads() & ours), "the left session's writer thread to end")
        assert session_row(db, first.session_id)[0] == "compose"
        # The left session still answers a late synchronous write, now written at once.
        first.set_mode("build")
        assert session_row(db, first.session_id)[0] == "build"
        assert services.agent is second and not second.is_running
    finally:
        await services.close()


async def test_a_subagents_session_writes_land_and_its_writer_thread_ends_with_its_turn(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(Reply(text="Looked at it: nothing to change."))
    agent = agent_project.open(RecordedEvents())
    agent_project.services.tasks.create(agent.session_id, "Look at the parser")
    registry = agent.context.services["subagents"]
    before = writer_threads()
    record = await registry.start("T1", "look at the parser", (), background=True)
    await registry.wait(record.id, timeout_s=20)
    assert record.state == "finished", record.result
    child = record.session.session_id
    # The parent's own writer thread has started meanwhile: it stored the child's spend under the parent.
    parents = set(agent._writer._threads)
    await until(lambda: not (writer_threads() - before - parents), "the child's writer thread to end")
    db = agent_project.root / ".mimo" / "state.db"
    with sqlite3.connect(db) as connection:
        stored = connection.execute("SELECT role, content FROM messages WHERE session_id = ? ORDER BY id",
                                    (child,)).fetchall()
    assert stored == [("user", "look at the parser"), ("assistant", "Looked at it: nothing to change.")]
