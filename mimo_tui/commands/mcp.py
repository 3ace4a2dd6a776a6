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
    from mimo_tui.agent.mcp import McpServers, format_status

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
