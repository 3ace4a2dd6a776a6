"""Snapshots of the chat mid-stream, a permission prompt for a file edit, and the task tree."""

from __future__ import annotations

import json

from mimo_tui.agent.setup import AgentServices
from mimo_tui.project import Project
from mimo_tui.store import USER
from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
from tests.fixtures.chat_app import send, wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE, assistant_text, use_server
from tests.fixtures.openai_server import Reply, ToolCall

FIRST_PART = (
    "## Plan\n\nThe parser reads **tokens** one by one:\n\n- split the input\n- build the tree\n\n"
    "```python\ndef parse(text):\n    return tree(tokens(text))\n```\n\n"
)


def test_chat_mid_stream(agent_project, openai_server, make_chat_app, snap_compare) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text=FIRST_PART + "Then the rest arrives much later.", chunk_size=len(FIRST_PART), chunk_delay=1.5))
    app = make_chat_app()

    async def run_before(pilot) -> None:
        await wait_for_agent(pilot)
        app.query_one("#prompt").cursor_blink = False
        await send(pilot, "how does the parser work?")
        await wait_until(pilot, lambda: "return tree" in assistant_text(app), what="the first part of the stream")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_permission_prompt_for_an_edit(agent_project, openai_server, make_chat_app, snap_compare) -> None:
    use_server(agent_project, openai_server)
    edit = {"path": "src/app.py", "old_text": "def greet():\n    return 'hello'", "new_text": "def greet(name):\n    return f'hello {name}'"}
    openai_server.queue(Reply(text="I'll change greet.", tool_calls=[ToolCall("edit_file", json.dumps(edit))]), Reply(text="done"))
    app = make_chat_app()

    async def run_before(pilot) -> None:
        await wait_for_agent(pilot)
        app.query_one("#prompt").cursor_blink = False
        await send(pilot, "make greet take a name")
        await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), what="the permission prompt")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_task_tree(agent_project, make_chat_app, snap_compare) -> None:
    project = Project.open(agent_project.root)
    services = AgentServices.open(project)
    session = services.sessions.create("offline/agent")
    tasks = services.tasks
    tasks.create(session.id, "Understand the parser")
    tasks.create(session.id, "Read the tokenizer", parent="T1")
    tasks.create(session.id, "Sketch the new grammar", parent="T1")
    tasks.create(session.id, "Write the migration")
    tasks.create(session.id, "Try the old library")
    tasks.done(session.id, "T1.1", "tokens are lines")
    tasks.start(session.id, "T1.2")
    tasks.block(session.id, "T2", "needs the grammar")
    tasks.abandon(session.id, "T3", "too slow")
    project.store.write(
        f"sessions/{session.id}/tasks/T1/progress.md",
        "# T1 Understand the parser\n\n## Task identity\n\nT1: Understand the parser\n\n## Outcome and discoveries\n\n- the tokenizer is line based\n",
        USER,
    )
    services.close()
    app = make_chat_app(resume=True)

    async def run_before(pilot) -> None:
        await wait_for_agent(pilot)
        app.query_one("#prompt").cursor_blink = False
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")) and len(app.query_one("#task-tree").root.children) == 3, what="the task tree")
        # The status line reads the current task on its own timer.
        await wait_until(pilot, lambda: "T1.2" in str(app.query_one("#work-status").render()), what="the current task")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
