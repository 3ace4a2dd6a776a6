"""/goal and compose mode in the TUI (Pilot) against the local server."""

from __future__ import annotations

import json

from textual.widgets import Static

from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.user_message import UserMessage
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_until
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

SIZE = (110, 36)


def use_server(project: AgentProject, server: LocalOpenAIServer) -> None:
    project.write_config(
        f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n'
        f'[models.judge]\nmodel = "openai/judge"\napi_base = "{server.base_url}"\napi_key = "sk-test"\n'
        '[goal]\njudge = "judge"\n'
    )


def work_lines(app) -> list[str]:
    return [str(w.render()) for w in app.query(Static) if w.has_class("work-line")]


async def test_goal_command_runs_until_the_judge_agrees(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(
        Reply(text="First pass."), Reply(text=json.dumps({"met": False, "reason": "no summary yet"})),
        Reply(text="Summary: all good."), Reply(text=json.dumps({"met": True, "reason": "the summary is there"})),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "/goal")  # without a condition: what /goal does, not "unknown command"
        await wait_until(pilot, lambda: any("/goal CONDITION" in m.source for m in app.query(AssistantMessage)),
                         what="the /goal usage")
        assert not openai_server.requests
        await send(pilot, "/goal the answer has a summary")
        await wait_until(pilot, lambda: any("goal met" in line for line in work_lines(app)), what="the goal to be met")
        lines = work_lines(app)
        assert lines[0].startswith("◎ goal: the answer has a summary  (judge openai/judge; cap 10 turns")
        assert "◎ judge after turn 1: not met — no summary yet" in lines
        assert lines[-1].startswith("◎ goal met after 2 turn(s)")
        assert [u.text for u in app.query(UserMessage)] == ["/goal the answer has a summary"]
        assert [r["model"] for r in openai_server.requests] == ["test", "judge", "test", "judge"]


async def test_tab_reaches_compose_and_a_request_there_is_a_compose_run(agent_project, openai_server,
                                                                       make_chat_app) -> None:
    use_server(agent_project, openai_server)
    progress = {"op": "progress", "id": "T1", "intent": "add a changelog", "files": "CHANGELOG.md",
                "commands": "none", "outcome": "CHANGELOG.md started"}
    openai_server.queue(
        Reply(tool_calls=[ToolCall("task", json.dumps({"op": "create", "title": "Start a changelog"}))]),
        Reply(text="Planned one task."),
        Reply(tool_calls=[ToolCall("task", json.dumps(progress)), ToolCall("task", json.dumps({"op": "done", "id": "T1"}))]),
        Reply(text="T1 done."),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        app.query_one("#prompt").focus()
        await pilot.press("tab")
        await pilot.press("tab")
        assert pane.agent.mode == "compose"
        assert "mode compose" in str(app.query_one("#agent-status").render())
        await send(pilot, "keep a changelog")
        await wait_until(pilot, lambda: any(line.startswith("▣ compose done") for line in work_lines(app)),
                         what="the compose run to finish")
        lines = work_lines(app)
        assert lines[:2] == ["▣ compose: spec and plan", "▣ compose: T1 Start a changelog"]
        assert "(done: T1)" in lines[-1]
        await pilot.press("tab")
        assert pane.agent.mode == "build"
