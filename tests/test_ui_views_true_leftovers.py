"""Views that stay true, the leftovers: /model to a model without credentials, /mcp after .mcp.json appears."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.fixtures.ui import wait_until

SIZE = (120, 40)


def toasts(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def test_slash_model_without_credentials_says_what_is_missing_at_once(
        agent_project, openai_server, make_chat_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.chat_app import send, wait_for_agent
    from tests.test_ui_chat_pilot import use_server

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    use_server(agent_project, openai_server)
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        before = pane.agent.spec
        started = time.monotonic()
        await send(pilot, "/model openai/gpt-4o-mini")
        await wait_until(pilot, lambda: "no credentials" in toasts(app), timeout=2)
        assert time.monotonic() - started < 1.5
        message = toasts(app)
        assert "OPENAI_API_KEY" in message and '[models."openai/gpt-4o-mini"]' in message and "api_key" in message
        assert pane.agent.spec == before  # the working model stays
        assert not openai_server.requests


async def test_mcp_json_added_while_running_is_listed_by_slash_mcp_and_its_tools_are_usable(
        agent_project, openai_server, make_chat_app, process_tag: str) -> None:
    import json
    import sys

    from mimo_tui.ui.chat.mcp_status import McpStatusBlock
    from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
    from tests.fixtures.chat_app import send, wait_for_agent, wait_idle
    from tests.fixtures.mcp_agent import SERVERS_DIR, allow_rule, model_config
    from tests.fixtures.mcp_servers import processes_with
    from tests.fixtures.openai_server import Reply, ToolCall

    agent_project.write_config(model_config(openai_server.base_url) + allow_rule("mcp__later__*"))
    openai_server.queue(
        Reply(text="Echoing.", tool_calls=[ToolCall("mcp__later__echo", json.dumps({"text": "hello from later"}))]),
        Reply(text="It said hello."),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "/mcp")
        await wait_until(pilot, lambda: bool(app.query(McpStatusBlock)), timeout=5)
        assert "none declared" in app.query_one(McpStatusBlock).text
        later = {"command": sys.executable, "args": [str(SERVERS_DIR / "demo_server.py"), "stdio", process_tag]}
        (agent_project.root / ".mcp.json").write_text(json.dumps({"mcpServers": {"later": later}}), encoding="utf-8")
        started = time.monotonic()
        await send(pilot, "/mcp")
        await wait_until(pilot, lambda: len(app.query(McpStatusBlock)) == 2, timeout=2)
        assert time.monotonic() - started < 1.0
        listing = app.query(McpStatusBlock).last().text
        assert "later" in listing and "none declared" not in listing
        servers = pane.services.mcp
        await wait_until(pilot, lambda: [s.state for s in servers.status()] == ["ready"], timeout=20)
        await send(pilot, "echo something")
        await wait_idle(pilot)
        [block] = app.query(ToolCallBlock)
        assert (block.tool, block.status, block.content) == ("mcp__later__echo", "ok", "hello from later")
        assert "mcp__later__echo" in [t["function"]["name"] for t in openai_server.requests[0]["tools"]]

        # The declaration is edited while the server runs: /mcp restarts it as declared now.
        old_pid = processes_with(process_tag)
        edited = {**later, "args": [*later["args"], "edited"], "env": {"DEMO_EXTRA_TOOL": "shout"}}
        (agent_project.root / ".mcp.json").write_text(json.dumps({"mcpServers": {"later": edited}}), encoding="utf-8")
        await send(pilot, "/mcp")
        await wait_until(pilot, lambda: "restarting later (declaration edited)" in toasts(app), timeout=2)
        await wait_until(pilot, lambda: servers.tool("mcp__later__shout") is not None, timeout=20)
        assert len(old_pid) == 1 and old_pid[0] not in processes_with(process_tag)
        assert [p for p in processes_with(process_tag) if "edited" in Path(f"/proc/{p}/cmdline").read_text()]
    assert processes_with(process_tag) == []


async def test_start_up_model_without_credentials_is_named_at_start_and_at_the_first_send(
        agent_project, make_chat_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from mimo_tui.ui.chat.agent_status import AgentStatus
    from mimo_tui.ui.chat.error_block import ErrorBlock
    from tests.fixtures.chat_app import send, wait_for_agent, wait_idle

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent_project.write_config('[model]\ndefault = "openai/gpt-4o-mini"\n')
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await wait_until(pilot, lambda: bool(app.query(ErrorBlock)), timeout=3)
        [line] = app.query(ErrorBlock)
        assert "OPENAI_API_KEY" in line.message and '[models."openai/gpt-4o-mini"]' in line.message
        # The status line is redrawn on its own timer, which can come after the error block under load.
        await wait_until(pilot, lambda: "no credentials" in str(app.query_one(AgentStatus).render()), timeout=3)
        started = time.monotonic()
        await send(pilot, "hello")
        await wait_idle(pilot, timeout=5)
        assert time.monotonic() - started < 1.5
        blocks = app.query(ErrorBlock)
        assert len(blocks) == 2 and "OPENAI_API_KEY" in blocks.last().message


async def test_goal_judge_without_credentials_is_refused_before_any_turn(
        agent_project, openai_server, make_chat_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fixtures.chat_app import send, wait_for_agent
    from tests.test_ui_chat_pilot import use_server

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    use_server(agent_project, openai_server)
    config = agent_project.root / ".mimo" / "config.toml"
    config.write_text(config.read_text() + '\n[goal]\njudge = "anthropic/claude-3-5-haiku-latest"\n')
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "/goal the tests pass")
        await wait_until(pilot, lambda: "ANTHROPIC_API_KEY" in toasts(app), timeout=3)
        assert "judge" in toasts(app)
        await pilot.pause(0.3)
        assert not openai_server.requests and not pane.agent.is_running
