"""`mimo mcp list`: the configured MCP servers, whether they start, and their tools."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mimo_tui.config import load_config
from mimo_tui.workspace import Workspace

if TYPE_CHECKING:
    from mimo_tui.agent.mcp import McpServers, McpServerStatus


def register(subparsers: argparse._SubParsersAction) -> None:
    mcp = subparsers.add_parser("mcp", help="MCP servers declared in config and .mcp.json")
    actions = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="start each server, print its state and tools, then stop them all")
    listing.add_argument("--timeout", type=float, help="seconds each server gets to start (default mcp.startup_timeout_s or 10)")
    listing.set_defaults(handler=run_list)


def run_list(args: argparse.Namespace) -> int:
    from mimo_tui.agent.mcp import McpServers

    workspace = Workspace.locate(Path.cwd())
    config = load_config(workspace.config_file)
    servers = McpServers.from_config(config, workspace.root)
    if args.timeout is not None:
        for name in servers.names:
            servers.connection(name).startup_timeout_s = args.timeout
    for problem in servers.problems:
        print(problem, file=sys.stderr)
    if not servers.names:
        print(f"no MCP servers declared (add [mcp.servers.NAME] to {workspace.config_file} or a .mcp.json in {workspace.root})")
        return 1 if servers.problems else 0
    statuses = asyncio.run(_start_and_stop(servers))
    for status in statuses:
        print(format_status(status))
    return 1 if servers.problems else 0


async def _start_and_stop(servers: McpServers) -> list[McpServerStatus]:
    servers.start_all()
    try:
        await servers.wait_started()
        return servers.status()
    finally:
        await servers.stop_all()


def format_status(status: McpServerStatus) -> str:
    """One server as a header line and indented details."""
    count = f"{status.tool_count} tool{'s' if status.tool_count != 1 else ''}" if status.state == "ready" else ""
    lines = [f"{status.name}  {status.transport}  {status.state}  {count}".rstrip()]
    width = max((len(tool.name) for tool in status.tools), default=0)
    for tool in status.tools:
        summary = tool.description.strip().splitlines()
        lines.append(f"  {tool.name:<{width}}" + (f"  {summary[0][:90]}" if summary else ""))
    lines.extend(f"  note: {notice}" for notice in status.notices)
    if status.error:
        lines.append(f"  error: {status.error}")
    if status.error and status.stderr_tail:
        lines.append("  stderr:")
        lines.extend(f"    {line}" for line in status.stderr_tail.splitlines())
    return "\n".join(lines)
