"""Automatic dream and distill at app start (Pilot): off by default, nothing runs; turned on and due, dream makes
its one commit and distill mines history and says how many proposals wait in /distill (committing nothing)."""

from __future__ import annotations

import subprocess

from mimo_tui.sessions import SessionStore
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import wait_for_agent, wait_until
from tests.test_distill import BUMP, add_session
from tests.test_dream import memory_with

SIZE = (110, 36)


def authors(agent_project: AgentProject) -> list[str]:
    out = subprocess.run(["git", "--git-dir", str(agent_project.root / ".mimo" / ".git"), "log", "--format=%an"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def notified(app, title: str) -> bool:
    return any(n.title == title for n in app._notifications)


async def test_automatic_dream_and_distill_run_at_start_only_when_turned_on(agent_project: AgentProject,
                                                                           make_chat_app) -> None:
    from mimo_tui.project import Project

    project = Project.open(agent_project.root)
    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make test`.", "- Use make test"]))
    sessions = SessionStore(project.workspace.state_db)
    for version in ("1.4.0", "1.5.0", "2.0.1"):
        add_session(sessions, f"Bump the version to {version} and update the changelog", BUMP)
    sessions.close()
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:  # off by default
        await wait_for_agent(pilot)
        await pilot.pause(0.5)
        assert not notified(app, "Scheduled distill") and not notified(app, "Scheduled dream")
    assert "dream" not in authors(agent_project)
    assert not (agent_project.root / ".mimo" / "cache" / "schedule" / "distill.last").exists()

    (agent_project.root / ".mimo" / "config.toml").write_text("[dream]\nauto = true\n\n[distill]\nauto = true\n")
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: notified(app, "Scheduled distill") and notified(app, "Scheduled dream"),
                         what="the scheduled dream and distill")
        message = next(str(n.message) for n in app._notifications if n.title == "Scheduled distill")
        assert message.startswith("1 proposal(s)") and "/distill" in message
    assert authors(agent_project).count("dream") == 1 and "distill" not in authors(agent_project)
