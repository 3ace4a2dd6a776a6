"""MCP servers as agent tools: declarations, connections, the registry and the Tool adapter (SDK imported lazily)."""

from __future__ import annotations

from mimo_tui.agent.mcp.config import McpConfigProblem, McpServerConfig, load_server_configs
from mimo_tui.agent.mcp.connection import DISABLED, FAILED, READY, STARTING, STOPPED, McpCallError, McpConnection
from mimo_tui.agent.mcp.report import format_status
from mimo_tui.agent.mcp.registry import DeclarationChanges, McpServerChanged, McpServers, McpServerStatus, McpToolSummary
from mimo_tui.agent.mcp.tool import McpTool, tool_name

__all__ = [
    "DISABLED",
    "DeclarationChanges",
    "FAILED",
    "READY",
    "STARTING",
    "STOPPED",
    "McpCallError",
    "McpConfigProblem",
    "McpConnection",
    "McpServerChanged",
    "McpServerConfig",
    "McpServerStatus",
    "McpServers",
    "McpTool",
    "McpToolSummary",
    "format_status",
    "load_server_configs",
    "tool_name",
]
