"""MCP servers in the TUI with Pilot: the ask prompt, the tool block, /mcp, notifications, a slow start, a clean exit."""

from __future__ import annotations

import json

from mimo_tui.ui.chat.mcp_status import McpStatusBlock
from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import chat_pane, send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.mcp_agent import allow_rule, mcp_server_config, model_config
from tests.fixtures.mcp_servers import processes_with
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

SIZE = (110, 36)


def server_state(app, name: str) -> str:
    servers = chat_pane(app).services.mcp
    return next(status.state for status in servers.status() if status.name == name)


def notices(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_ask_prompt_names_server_tool_and_arguments_then_once_runs_it(
    agent_project: AgentProject, openai_server: LocalOpenAIServer, make_chat_app, process_tag: str
) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag))
    openai_server.queue(
        Reply(text="Echoing.", tool_calls=[ToolCall("mcp__demo__echo", json.dumps({"text": "hello from mcp"}))]),
        Reply(text="It said hello."),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: server_state(app, "demo") == "ready", timeout=20, what="the demo server")
        await wait_until(pilot, lambda: "MCP server 'demo' is ready" in notices(app), what="the ready notification")
        await send(pilot, "echo something")
        await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), what="the permission prompt")
        prompt = app.query_one(PermissionPrompt)
        title = str(prompt.query_one(".permission-title").render())
        assert "MCP server demo" in title and "tool echo" in title
        assert json.loads(prompt.preview) == {"text": "hello from mcp"} and "\n  " in prompt.preview
        await wait_until(pilot, lambda: app.focused is prompt, what="the prompt to take focus")
        await pilot.press("o")
        await wait_idle(pilot)
        [block] = app.query(ToolCallBlock)
        assert (block.tool, block.status, block.content) == ("mcp__demo__echo", "ok", "hello from mcp")
        assert openai_server.requests[1]["messages"][-1]["content"] == "hello from mcp"

        await send(pilot, "/mcp")
        await wait_until(pilot, lambda: bool(app.query(McpStatusBlock)), what="the /mcp block")
        listing = app.query_one(McpStatusBlock).text
        assert "demo  stdio  ready" in listing and "mcp__demo__echo" not in listing and "echo" in listing
        assert len(processes_with(process_tag)) == 1
    assert processes_with(process_tag) == []


async def test_app_is_interactive_while_a_slow_server_starts_and_failures_are_notified(
    agent_project: AgentProject, openai_server: LocalOpenAIServer, make_chat_app, process_tag: str
) -> None:
    agent_project.write_config(
        model_config(openai_server.base_url)
        + "\n[mcp]\nstartup_timeout_s = 60\n"
        + mcp_server_config("slow", "silent_server.py", process_tag)
        + '\n[mcp.servers.missing]\ncommand = "/nonexistent/mimo-no-such-server"\n'
    )
    openai_server.queue(Reply(text="answered while the server starts"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: len(processes_with(process_tag)) == 1, timeout=20, what="the slow server's process")
        await send(pilot, "hello")
        await wait_idle(pilot)
        assert server_state(app, "slow") == "starting"
        assert not [t for t in openai_server.requests[0]["tools"] if t["function"]["name"].startswith("mcp__")]
        await wait_until(pilot, lambda: server_state(app, "missing") == "failed", what="the missing server to fail")
        await wait_until(pilot, lambda: "mimo-no-such-server" in notices(app), what="the failure notification")
        await send(pilot, "/mcp")
        await wait_until(pilot, lambda: bool(app.query(McpStatusBlock)), what="the /mcp block")
        listing = app.query_one(McpStatusBlock).text
        assert "slow  stdio  starting" in listing and "missing  stdio  failed" in listing
        assert "error: " in listing and "mimo-no-such-server" in listing
        titles = [command.title for command in chat_pane(app).palette_commands()]
        assert "MCP: servers" in titles and "MCP: restart missing" in titles and "MCP: restart slow" not in titles
    assert processes_with(process_tag) == []


async def test_mcp_restart_command_and_completion(agent_project: AgentProject, openai_server: LocalOpenAIServer,
                                                  make_chat_app, process_tag: str) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: server_state(app, "demo") == "ready", timeout=20, what="the demo server")
        prompt = app.query_one("#prompt")
        assert await prompt.suggester.get_suggestion("/mc") == "/mcp"
        assert await prompt.suggester.get_suggestion("/mcp re") == "/mcp restart"
        assert await prompt.suggester.get_suggestion("/mcp restart d") == "/mcp restart demo"
        await send(pilot, "/mcp stop demo")
        await wait_until(pilot, lambda: server_state(app, "demo") == "stopped", timeout=20, what="the server to stop")
        assert processes_with(process_tag) == []
        await send(pilot, "/mcp restart demo")
        await wait_until(pilot, lambda: server_state(app, "demo") == "ready", timeout=20, what="the server to restart")
        assert len(processes_with(process_tag)) == 1
        await send(pilot, "/mcp restart nope")
        await wait_until(pilot, lambda: "no MCP server 'nope'" in notices(app), what="the unknown-server notice")
    assert processes_with(process_tag) == []


async def test_server_crash_mid_call_is_shown_and_the_session_goes_on(
    agent_project: AgentProject, openai_server: LocalOpenAIServer, make_chat_app, process_tag: str
) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
                               + allow_rule("mcp__demo__*"))
    openai_server.queue(Reply(tool_calls=[ToolCall("mcp__demo__crash", "{}")]), Reply(text="it crashed"), Reply(text="still here"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: server_state(app, "demo") == "ready", timeout=20, what="the demo server")
        await send(pilot, "crash the server")
        await wait_idle(pilot)
        [block] = app.query(ToolCallBlock)
        assert block.status == "error" and "MCP server 'demo'" in block.content and "'crash'" in block.content
        failed = lambda: [n for n in app._notifications if n.severity == "error" and "'crash'" in str(n.message)]  # noqa: E731
        await wait_until(pilot, lambda: bool(failed()), what="the failure notification")
        assert server_state(app, "demo") == "failed" and "/mcp restart demo" in str(failed()[0].message)
        await send(pilot, "are you there?")
        await wait_idle(pilot)
        assert openai_server.requests[-1]["messages"][-1]["content"] == "are you there?"
        assert not [t for t in openai_server.requests[-1]["tools"] if t["function"]["name"].startswith("mcp__")]
    assert processes_with(process_tag) == []
