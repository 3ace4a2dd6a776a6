"""Run by tests/test_ui_model_worker.py in a fresh interpreter, so no other test's imports are in sys.modules.

Its name does not start with test_: the main suite does not collect it; the outer test passes it to pytest.
"""

from __future__ import annotations

import os
import sys

from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

SIZE = (110, 36)


def use_server(project: AgentProject, server: LocalOpenAIServer) -> None:
    project.write_config(f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n')


async def test_streamed_turns_with_tool_calls_and_offline_agent_leave_litellm_out(agent_project, openai_server, make_chat_app) -> None:
    assert "litellm" not in sys.modules, "something imported litellm before the app started"
    use_server(agent_project, openai_server)
    openai_server.queue(
        Reply(text="Looking at src.", tool_calls=[ToolCall("list_dir", '{"path": "src"}')], chunk_size=4),
        Reply(text="There is **app.py** in src. " * 20, chunk_size=4),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "what is in src?")
        await wait_idle(pilot)
        blocks = list(app.query(ToolCallBlock))
        assert len(blocks) == 1 and blocks[0].status == "ok" and blocks[0].content == "app.py"
        assert "There is **app.py** in src." in "\n".join(b.source for b in app.query(AssistantMessage))
        assert pane.gateway.totals.calls == 2 and pane.gateway.totals.completion_tokens > 0
        worker_pid = getattr(getattr(app, "model_worker", None), "pid", 1)
        assert worker_pid is not None and worker_pid != os.getpid()
        await send(pilot, "/model offline/agent")
        await pilot.pause(0.1)
        await send(pilot, "list the files")
        await wait_idle(pilot, timeout=40)
        assert pane.agent.spec.offline and "offline demo model" in "\n".join(b.source for b in app.query(AssistantMessage))
        assert len(app.query(ToolCallBlock)) == 2
        assert app.model_worker.pid == worker_pid
    assert "litellm" not in sys.modules, "the UI process imported litellm"
