"""Background subagents in the TUI: /agents lists them and stops one; the chat tells how each ended."""

from __future__ import annotations

import json
import re

from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.openai_server import Reply, ToolCall
from tests.test_subagents import is_child
from tests.test_ui_chat_pilot import use_server
from tests.test_ui_goal_compose import work_lines

SIZE = (110, 36)


def parent_or_child(body: dict) -> Reply:
    if is_child(body):  # a slow child that keeps looking around
        return Reply(tool_calls=[ToolCall("list_dir", json.dumps({"path": "."}))], delay=0.3)
    if body["messages"][-1]["role"] == "user":
        return Reply(tool_calls=[ToolCall("task", json.dumps({"op": "create", "title": "Survey"})),
                                 ToolCall("agent", json.dumps({"op": "start", "task": "T1", "prompt": "survey slowly",
                                                               "background": True}))])
    return Reply(text="Started a1 in the background.")


async def start_background_child(app, pilot) -> None:
    """The user asks; the parent starts a1 on T1 in the background; the user allows it once."""
    await send(pilot, "survey it in the background")
    # the first model call of the app: its worker process may still be loading litellm on a busy machine
    await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), 60, "the permission prompt")
    await wait_until(pilot, lambda: app.focused is app.query_one(PermissionPrompt), what="the prompt's focus")
    await pilot.press("o")
    await wait_idle(pilot)


async def test_agents_lists_the_sessions_subagents_and_cancels_one(agent_project, openai_server, make_chat_app) -> None:
    # Seen by hand: a background subagent could not be stopped by the user at all.
    use_server(agent_project, openai_server)
    openai_server.responder = parent_or_child
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await start_background_child(app, pilot)
        # its line in the chat counts the child's tool calls as it works, in place
        progress = re.compile(r"a1 on T1 \(background\): running · ([2-9]|\d\d+) tool calls · list_dir \.$")
        await wait_until(pilot, lambda: any(progress.search(line) for line in work_lines(app)), what="the child's progress")
        assert sum("subagent a1" in line for line in work_lines(app)) == 1
        status = app.query_one("#agent-status")
        await wait_until(pilot, lambda: "⧉ 1 subagent running" in str(status.render()), what="the status line's count")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Subagents: list" in titles and "Subagents: cancel a1" in titles  # the palette has them too
        await send(pilot, "/agents")
        await wait_until(pilot, lambda: any("Subagents of this session" in m.source for m in app.query(AssistantMessage)),
                         what="the /agents list")
        listing = next(m.source for m in app.query(AssistantMessage) if "Subagents of this session" in m.source)
        assert "a1 on T1 [running, background] writes: read-only" in listing
        await send(pilot, "/agents show a1")  # what the child did so far, step by step
        await wait_until(pilot, lambda: any(m.source.startswith("**Subagent a1 on T1") for m in app.query(AssistantMessage)),
                         what="the child's steps")
        steps = next(m.source for m in app.query(AssistantMessage) if m.source.startswith("**Subagent a1 on T1"))
        assert "asked: survey slowly" in steps and "→ list_dir ." in steps and "  ✓ " in steps
        await send(pilot, "/agents cancel a9")
        await wait_until(pilot, lambda: any("no subagent 'a9'" in str(n.message) for n in app._notifications),
                         what="the unknown id refused")
        await send(pilot, "/agents cancel a1")
        await wait_until(pilot, lambda: any("subagent a1 on T1 (background): cancelled — it was stopped before it finished"
                                            in line for line in work_lines(app)), 10, "the cancelled line")
        registry = pane.agent.context.services["subagents"]
        assert registry.get("a1").state == "cancelled"
        await wait_until(pilot, lambda: "subagent" not in str(status.render()), what="the count gone")
        assert not pane.agent.is_running


async def test_quitting_stops_a_running_background_subagent_before_the_stores_close(agent_project, openai_server,
                                                                                    make_chat_app) -> None:
    # Seen by hand: ctrl+q with a background subagent running printed a traceback (its last task read hit the
    # closed database) after the app had gone.
    use_server(agent_project, openai_server)
    openai_server.responder = parent_or_child
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await start_background_child(app, pilot)
        registry = pane.agent.context.services["subagents"]
        record = registry.get("a1")
        await wait_until(pilot, lambda: any(is_child(body) for body in openai_server.requests), what="the child's turn")
        assert record.state == "running"
    assert record.state == "cancelled"
    assert record.runner.done() and record.runner.exception() is None
    from mimo_tui.agent.setup import AgentServices
    from mimo_tui.project import Project

    services = AgentServices.open(Project.open(agent_project.root))
    try:
        (task,) = services.tasks.list(pane.agent.session_id)
        assert task.note.startswith("subagent a1 cancelled")
    finally:
        services.close()
