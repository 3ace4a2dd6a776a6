"""Servers that fail: each gives a clear message naming the server, leaves no process, and the rest keep working."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mimo_tui.agent.mcp import FAILED, READY, McpServerChanged, McpServerConfig, McpServers
from mimo_tui.agent.tools.base import ToolContext
from tests.fixtures.mcp_servers import processes_with, stdio_server


async def test_broken_servers_fail_clearly_while_a_good_one_works(tmp_path: Path, process_tag: str) -> None:
    servers = McpServers(
        [
            McpServerConfig("ghost", "stdio", "test", command="/nonexistent/mcp-ghost"),
            stdio_server("garbage", "garbage_server.py", process_tag),
            stdio_server("silent", "silent_server.py", process_tag),
            stdio_server("noisy", "demo_server.py", "noisy", process_tag),
            McpServerConfig("nowhere", "stdio", "test", command="true", cwd=str(tmp_path / "missing")),
            McpServerConfig("off", "stdio", "test", command="/nonexistent/never-started", enabled=False),
        ],
        project_root=tmp_path,
        startup_timeout_s=6.0,
    )
    events: list[McpServerChanged] = []
    servers.subscribe(events.append)
    servers.start_all()
    await servers.wait_started(timeout=20)
    by_name = {status.name: status for status in servers.status()}

    assert by_name["ghost"].state == FAILED
    assert by_name["ghost"].error == "MCP server 'ghost': command not found: /nonexistent/mcp-ghost"
    assert by_name["garbage"].state == FAILED
    assert "MCP server 'garbage' did not answer initialize within 6s" in by_name["garbage"].error
    assert "not an MCP server" in by_name["garbage"].error
    assert by_name["silent"].state == FAILED
    assert by_name["silent"].error == "MCP server 'silent' did not answer initialize within 6s"
    assert "silent server started" in by_name["silent"].stderr_tail
    assert by_name["nowhere"].error.startswith("MCP server 'nowhere': working directory not found")
    assert by_name["off"].state == "disabled" and not any(e.status.name == "off" for e in events)
    # A stray line on stdout before the handshake is skipped; the server still works.
    assert by_name["noisy"].state == READY
    echo = servers.tool("mcp__noisy__echo")
    result = await echo.run({"text": "fine"}, ToolContext(project_root=tmp_path, session_id="t"))
    assert result.content == "fine"
    failures = [e.status.name for e in events if e.status.state == FAILED]
    assert sorted(failures) == ["garbage", "ghost", "nowhere", "silent"]

    await servers.stop_all()
    assert processes_with(process_tag) == []


async def test_a_server_that_exits_at_start_shows_its_stderr(tmp_path: Path) -> None:
    script = tmp_path / "dies.py"
    script.write_text("import sys\nprint('fatal: no API key configured', file=sys.stderr)\nsys.exit(2)\n")
    servers = McpServers([McpServerConfig("dies", "stdio", "test", command=sys.executable, args=(str(script),))],
                         startup_timeout_s=5.0)
    servers.start_all()
    await servers.wait_started(timeout=10)
    [status] = servers.status()
    assert status.state == FAILED and status.error == "MCP server 'dies' exited during initialize"
    assert "fatal: no API key configured" in status.stderr_tail
    await servers.stop_all()


async def test_stop_while_starting_leaves_no_process(process_tag: str) -> None:
    servers = McpServers(
        [stdio_server("demo", "demo_server.py", "stdio", process_tag), stdio_server("silent", "silent_server.py", process_tag)],
        startup_timeout_s=10.0,
    )
    servers.start_all()
    for _ in range(200):
        if len(processes_with(process_tag)) == 2:
            break
        await asyncio.sleep(0.01)
    assert len(processes_with(process_tag)) == 2
    await servers.stop_all()
    assert [status.state for status in servers.status()] == ["stopped", "stopped"]
    assert processes_with(process_tag) == []
