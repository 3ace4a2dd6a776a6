"""The registry against the FastMCP demo server over streamable HTTP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from mimo_tui.agent.mcp import FAILED, READY, STOPPED, McpServerConfig, McpServers
from mimo_tui.agent.tools.base import ToolContext
from tests.fixtures.mcp_servers import HttpDemoServer


async def test_http_server_tools_and_calls(tmp_path: Path, http_demo_server: HttpDemoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_TOKEN", "s3cret")
    config = McpServerConfig(
        "web", "http", "test", url=http_demo_server.url, headers={"Authorization": "env:DEMO_TOKEN", "X-Team": "${DEMO_TOKEN}"}
    )
    servers = McpServers([config], call_timeout_s=1.0)
    servers.start_all()
    await servers.wait_started(timeout=15)
    [status] = servers.status()
    assert (status.state, status.transport) == (READY, "http"), status.error
    ctx = ToolContext(project_root=tmp_path, session_id="t")
    assert (await servers.tool("mcp__web__add").run({"a": 1, "b": 2}, ctx)).content == "3"
    header = servers.tool("mcp__web__header")
    assert (await header.run({"name": "Authorization"}, ctx)).content == "s3cret"
    assert (await header.run({"name": "X-Team"}, ctx)).content == "s3cret"
    picture = await servers.tool("mcp__web__picture").run({}, ctx)
    assert picture.content.startswith("[image/png")
    big = await servers.tool("mcp__web__big").run({"size": 100_000}, ctx)
    assert len(big.content) == 100_000
    slow = await servers.tool("mcp__web__slow").run({"seconds": 4}, ctx)
    assert slow.is_error and "did not answer within 1s" in slow.content
    assert (await servers.tool("mcp__web__echo").run({"text": "ok"}, ctx)).content == "ok"
    await servers.stop_all()
    assert servers.status()[0].state == STOPPED


async def test_http_server_going_away_fails_the_call_clearly(tmp_path: Path, http_demo_server: HttpDemoServer) -> None:
    wrong_url = http_demo_server.url.replace("/mcp", "/nope")
    servers = McpServers(
        [McpServerConfig("web", "http", "test", url=http_demo_server.url), McpServerConfig("wrong", "http", "test", url=wrong_url)],
        call_timeout_s=3.0,
    )
    servers.start_all()
    await servers.wait_started(timeout=15)
    wrong = servers.status()[1]
    assert wrong.error == f"MCP server 'wrong' at {wrong_url} answered initialize with an error: Not Found (code -32601)"
    echo = servers.tool("mcp__web__echo")
    http_demo_server.process.kill()
    http_demo_server.process.wait()
    result = await echo.run({"text": "anyone?"}, ToolContext(project_root=tmp_path, session_id="t"))
    assert result.is_error and result.content == "MCP server 'web' closed the connection during the call of tool 'echo'"
    assert servers.status()[0].state == FAILED
    await servers.stop_all()


async def test_unreachable_and_unset_header_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIMO_TEST_MISSING_TOKEN", raising=False)
    servers = McpServers(
        [
            McpServerConfig("closed", "http", "test", url="http://127.0.0.1:9/mcp"),
            McpServerConfig("secret", "http", "test", url="http://127.0.0.1:9/mcp", headers={"Authorization": "env:MIMO_TEST_MISSING_TOKEN"}),
        ],
        startup_timeout_s=3.0,
    )
    servers.start_all()
    await servers.wait_started(timeout=10)
    closed, secret = servers.status()
    assert closed.state == FAILED and closed.error.startswith("MCP server 'closed': cannot reach http://127.0.0.1:9/mcp")
    assert secret.error == "MCP server 'secret': environment variable MIMO_TEST_MISSING_TOKEN is not set"
    await servers.stop_all()
