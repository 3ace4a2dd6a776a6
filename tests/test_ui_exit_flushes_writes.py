"""App exit flushes the agent's ordered session writes: a mode change queued last is on disk afterwards."""

from __future__ import annotations

import sqlite3
import threading



async def test_a_mode_change_queued_behind_a_slow_write_is_on_disk_after_the_app_exits(agent_project, make_chat_app) -> None:
    from tests.fixtures.chat_app import wait_for_agent

    app = make_chat_app()
    state_db = agent_project.root / ".mimo" / "state.db"
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await wait_for_agent(pilot)
        session_id, first = pane.agent.session_id, pane.agent.mode
        # Another process holds the database's write lock for a moment: the first mode write waits on it
        # (busy timeout) and the second is queued behind it when the user quits.
        blocker = sqlite3.connect(state_db, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(1.0, lambda: blocker.execute("COMMIT"))
        release.start()
        pane.query_one("#prompt").focus()
        await pilot.press("tab")
        await pilot.press("tab")
        last = pane.agent.mode
        assert last != first
        await pilot.pause(0.1)
        await pilot.press("ctrl+q")
    release.join()
    blocker.close()
    with sqlite3.connect(state_db) as db:
        (mode,) = db.execute("SELECT mode FROM sessions WHERE id = ?", (session_id,)).fetchone()
    assert mode == last
