"""The tools an agent session offers, by name."""

from __future__ import annotations

from typing import Any

from mimo_tui.agent.tools.base import Tool
from mimo_tui.agent.tools.files import EditFile, Glob, ListDir, ReadFile, WriteFile
from mimo_tui.agent.tools.history_tool import HistoryTool
from mimo_tui.agent.tools.memory_tool import MemoryTool
from mimo_tui.agent.tools.search import Grep
from mimo_tui.agent.tools.shell import Bash
from mimo_tui.agent.tools.skill_tool import SkillTool
from mimo_tui.agent.tools.task_tool import TaskTool


def default_tools(bash_timeout_s: int = 120) -> dict[str, Tool]:
    tools: list[Tool] = [
        ReadFile(), WriteFile(), EditFile(), ListDir(), Glob(), Grep(), Bash(bash_timeout_s),
        MemoryTool(), HistoryTool(), TaskTool(), SkillTool(),
    ]
    return {tool.spec.name: tool for tool in tools}


def is_read_only_call(tool: Tool, args: dict[str, Any]) -> bool:
    """Whether this call only reads (some tools, like task and memory, read or write depending on op)."""
    check = getattr(tool, "is_read_only_call", None)
    return bool(check(args)) if check is not None else tool.read_only
