"""Plain-text rendering of MCP server status, shared by `mimo mcp list` and the `/mcp` command."""

from __future__ import annotations

from mimo_tui.agent.mcp.registry import McpServerStatus


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
