"""The task pane: keys change the shared task store, and the agent's task tool shows up live."""

from __future__ import annotations

from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import type_quickly, wait_for_agent, wait_until
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall
from tests.test_ui_chat_pilot import SIZE, use_server


def labels(app) -> list[str]:
    tree = app.query_one("#task-tree")
    found = []
    stack = list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        found.append(str(node.label))
        stack.extend(reversed(node.children))
    return found


async def test_task_keys_and_live_updates_from_the_agent(agent_project: AgentProject, openai_server: LocalOpenAIServer, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(tool_calls=[ToolCall("task", '{"op": "create", "title": "from the agent"}')]), Reply(text="made it"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")), what="the task pane")
        app.query_one("#task-tree").focus()
        await pilot.press("a")
        await type_quickly(pilot, "write docs")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(labels(app)) == 1, what="the new task")
        await pilot.press("n")
        await type_quickly(pilot, "api page")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(labels(app)) == 2, what="the subtask")
        assert labels(app)[1].startswith("○ T1.1 api page")
        await pilot.press("s")
        await wait_until(pilot, lambda: "◐ T1.1" in labels(app)[1], what="T1.1 to start")
        assert "focus" in labels(app)[1]
        await pilot.press("b")
        await type_quickly(pilot, "waiting")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "⊘ T1.1" in labels(app)[1], what="T1.1 to be blocked")
        await pilot.press("u", "d")
        await wait_until(pilot, lambda: "● T1.1" in labels(app)[1], what="T1.1 done")
        await pilot.press("r")
        await type_quickly(pilot, " now")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "api page now" in labels(app)[1], what="the rename")
        progress = app.query_one("#task-progress")
        assert "T1.1 api page" in progress.source
        await pane.agent.run_turn("make a task")
        await wait_until(pilot, lambda: len(labels(app)) == 3, what="the agent's task")
        assert labels(app)[2].startswith("○ T2 from the agent")
        await pilot.press("up", "x")
        await wait_until(pilot, lambda: any("✕" in label for label in labels(app)), what="an abandoned task")
        authors = {commit.message.split(" in session")[0]: commit.author for commit in pane.services.project.store.log()}
        assert authors["tasks: created T1"] == "user" and authors["tasks: created T2"] == "agent"
