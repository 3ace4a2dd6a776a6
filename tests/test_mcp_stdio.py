"""The registry against real servers over stdio: the FastMCP demo server and the published mcp-server-time."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mimo_tui.agent.mcp import FAILED, READY, STOPPED, McpServerChanged, McpServerConfig, McpServers
from mimo_tui.agent.tools.base import ToolContext
from tests.fixtures.mcp_servers import MCP_SERVER_TIME, processes_with, stdio_server


def _ctx(tmp_path: Path) -> ToolContext:
    return ToolContext(project_root=tmp_path, session_id="test")


async def test_demo_server_tools_results_and_errors(tmp_path: Path, process_tag: str) -> None:
    servers = McpServers([stdio_server("demo", "demo_server.py", "stdio", process_tag)], call_timeout_s=1.0)
    events: list[McpServerChanged] = []
    servers.subscribe(events.append)
    servers.start_all()
    await servers.wait_started(timeout=20)
    [status] = servers.status()
    assert status.state == READY, status.error
    assert len(processes_with(process_tag)) == 1
    names = {tool.name for tool in servers.tools()}
    assert {"mcp__demo__echo", "mcp__demo__add", "mcp__demo__slow", "mcp__demo__picture"} <= names
    assert "mcp__demo__broken_schema" not in names
    assert any("'demo'" in n and "'broken_schema'" in n for n in status.notices)
    assert [e.status.state for e in events][:2] == ["starting", "ready"]
    ctx = _ctx(tmp_path)

    echo = servers.tool("mcp__demo__echo")
    assert echo is not None and echo.permission_subject({"text": "x"}) == "mcp__demo__echo"
    assert echo.spec.description == "Return the text unchanged."
    assert echo.spec.parameters["required"] == ["text"]
    result = await echo.run({"text": "hello mcp"}, ctx)
    assert (result.content, result.is_error) == ("hello mcp", False)

    add = servers.tool("mcp__demo__add")
    assert (await add.run({"a": 2, "b": 40}, ctx)).content == "42"
    mismatch = await add.run({"a": "two"}, ctx)
    assert mismatch.is_error and "'add'" in mismatch.content and "'demo'" in mismatch.content
    assert "'b' is a required property" in mismatch.content and "not of type 'integer'" in mismatch.content

    picture = await servers.tool("mcp__demo__picture").run({}, ctx)
    assert picture.content.startswith("[image/png, ") and picture.content.endswith("KB]")

    big = await servers.tool("mcp__demo__big").run({"size": 300_000}, ctx)
    assert len(big.content) == 300_000 and not big.is_error

    failed = await servers.tool("mcp__demo__fail").run({"message": "the disk is on fire"}, ctx)
    assert failed.is_error and "the disk is on fire" in failed.content and "'demo'" in failed.content
    exploded = await servers.tool("mcp__demo__explode").run({}, ctx)
    assert exploded.is_error and "explode" in exploded.content

    slow = await servers.tool("mcp__demo__slow").run({"seconds": 5}, ctx)
    assert slow.is_error and "did not answer within 1s" in slow.content and "'slow'" in slow.content
    # The server keeps serving after a timed-out call.
    assert (await echo.run({"text": "still here"}, ctx)).content == "still here"

    # A server that announces a changed tool list gets its new tools offered.
    assert (await servers.tool("mcp__demo__grow").run({"name": "shout"}, ctx)).content == "added shout"
    for _ in range(200):
        if servers.tool("mcp__demo__shout") is not None:
            break
        await asyncio.sleep(0.01)
    assert "shout" in events[-1].status.tool_names
    assert (await servers.tool("mcp__demo__shout").run({"text": "hey"}, ctx)).content == "hey"

    await servers.stop_all()
    assert servers.status()[0].state == STOPPED
    assert processes_with(process_tag) == []


async def test_crash_mid_call_marks_the_server_failed_and_the_others_keep_working(tmp_path: Path, process_tag: str) -> None:
    servers = McpServers(
        [
            stdio_server("demo", "demo_server.py", "stdio", process_tag),
            McpServerConfig("clock", "stdio", "test", command=str(MCP_SERVER_TIME)),
        ],
        call_timeout_s=5.0,
    )
    servers.start_all()
    await servers.wait_started(timeout=20)
    assert [s.state for s in servers.status()] == [READY, READY]
    ctx = _ctx(tmp_path)
    crash = servers.tool("mcp__demo__crash")
    result = await crash.run({}, ctx)
    assert result.is_error and "MCP server 'demo'" in result.content and "'crash'" in result.content
    await asyncio.sleep(0.1)
    demo = servers.status()[0]
    assert demo.state == FAILED and "'demo'" in demo.error
    assert all(tool.server == "clock" for tool in servers.tools())
    # A call through a tool object held from before the crash answers clearly.
    stale = await crash.run({}, ctx)
    assert stale.is_error and "MCP server 'demo' is failed" in stale.content

    clock = servers.tool("mcp__clock__get_current_time")
    now = await clock.run({"timezone": "Europe/Paris"}, ctx)
    assert not now.is_error and "Europe/Paris" in now.content
    bad_zone = await clock.run({"timezone": "Mars/Olympus"}, ctx)
    assert bad_zone.is_error and "Mars/Olympus" in bad_zone.content

    restarted = await servers.restart("demo")
    assert restarted.state == READY and restarted.tool_count >= 8
    assert (await servers.tool("mcp__demo__echo").run({"text": "back"}, ctx)).content == "back"
    await servers.stop_all()
    assert processes_with(process_tag) == []
