"""/dream, /distill and a distilled /command in the workbench (Pilot): the work runs off the event loop, the review
shows, one key reverts the dream (byte for byte), approved proposals are committed, a command runs with its args."""

from __future__ import annotations

import subprocess

from mimo_tui.sessions import SessionStore
from mimo_tui.ui.chat.user_message import UserMessage
from mimo_tui.ui.distill_review import DistillReviewScreen
from mimo_tui.ui.dream_review import DreamReviewScreen
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.openai_server import LocalOpenAIServer, Reply
from tests.test_distill import BUMP, add_session
from tests.test_dream import memory_with

SIZE = (110, 36)


def author_of_head(project: AgentProject) -> str:
    return subprocess.run(["git", "--git-dir", str(project.root / ".mimo" / ".git"), "log", "-1", "--format=%an"],
                          capture_output=True, text=True, check=True).stdout.strip()


async def test_dream_shows_its_review_and_r_reverts_it_byte_for_byte(agent_project: AgentProject, make_chat_app) -> None:
    from mimo_tui.project import Project

    project = Project.open(agent_project.root)
    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make test`.", "- Use make test"],
                                                 Discovered_durable_knowledge=["- Config lives in `conf/gone.toml`."]))
    memory = agent_project.root / ".mimo" / "MEMORY.md"
    before = memory.read_bytes()
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "/dream")
        await wait_until(pilot, lambda: isinstance(app.screen, DreamReviewScreen) and app.screen.review is not None,
                         what="the dream review")
        screen = app.screen
        assert screen.review.commit is not None and author_of_head(agent_project) == "dream"
        assert "1 consolidated, 1 updated" in str(screen.query_one("#dream-status").render())
        assert memory.read_bytes() != before and "[unverified]" in memory.read_text()
        await pilot.press("r")
        await wait_until(pilot, lambda: screen.reverted_as is not None, what="the revert")
        assert memory.read_bytes() == before
        await pilot.press("escape")


async def test_distill_review_commits_only_the_approved_proposal(agent_project: AgentProject, make_chat_app) -> None:
    from mimo_tui.project import Project

    project = Project.open(agent_project.root)
    sessions = SessionStore(project.workspace.state_db)
    for version in ("1.4.0", "1.5.0", "2.0.1"):
        add_session(sessions, f"Bump the version to {version} and update the changelog", BUMP)
    sessions.close()
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "/distill")
        await wait_until(pilot, lambda: isinstance(app.screen, DistillReviewScreen) and app.screen.plan is not None,
                         what="the distill proposals")
        screen = app.screen
        assert len(screen.plan.proposals) == 1
        await pilot.press("c")  # nothing approved yet: nothing is committed
        await pilot.pause(0.1)
        assert not screen.committed
        await pilot.press("space", "c")
        await wait_until(pilot, lambda: bool(screen.committed), what="the commit")
        relpath = screen.plan.proposals[0].relpath
        assert (agent_project.root / ".mimo" / relpath).is_file() and author_of_head(agent_project) == "distill"


async def test_a_distilled_command_runs_with_its_arguments_in_chat(agent_project: AgentProject,
                                                                  openai_server: LocalOpenAIServer,
                                                                  make_chat_app) -> None:
    agent_project.write_config(f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\n'
                               f'api_base = "{openai_server.base_url}"\n')
    (agent_project.root / ".mimo" / "commands").mkdir(parents=True)
    (agent_project.root / ".mimo" / "commands" / "bump-version.md").write_text(
        '---\ndescription: "Bump the version"\n---\nBump the version to $ARGUMENTS and update the changelog.\n')
    openai_server.queue(Reply(text="Bumped."))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "/bump-version 3.1.0")
        await wait_idle(pilot)
        sent = [m["content"] for m in openai_server.requests[-1]["messages"] if m["role"] == "user"][-1]
        assert sent.endswith("Bump the version to 3.1.0 and update the changelog.")
        assert [u.text for u in app.query(UserMessage)] == ["Bump the version to 3.1.0 and update the changelog."]
        await send(pilot, "/no-such-command x")
        await pilot.pause(0.1)
        assert len(openai_server.requests) == 1
