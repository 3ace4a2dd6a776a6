"""The memory tool: search, read, append to project memory, and take session notes."""

from __future__ import annotations

from typing import Any

from mimo_tui.agent.file_policy import check_read, display_path, may_hold_secrets, text_for_model, withheld_note
from mimo_tui.agent.tools.arguments import ToolInputError, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.agent.tools.memory_access import MemoryAccess
from mimo_tui.workspace import MIMO_DIR

OPERATIONS = ("search", "read", "append", "note")


class MemoryTool(BlockingTool):
    """Reach the project's memory files."""

    read_only = False
    spec = ToolSpec(
        "memory",
        "Project memory. op=search (query) finds entries; op=read (path, default MEMORY.md) shows a memory file; "
        "op=append (text, section) adds a durable fact to MEMORY.md; op=note (text) adds to this session's notes. "
        "Memory entries are claims to verify, not facts.",
        schema(
            {
                "op": {"type": "string", "enum": list(OPERATIONS)},
                "query": {"type": "string"},
                "path": {"type": "string"},
                "text": {"type": "string"},
                "section": {"type": "string"},
            },
            ["op"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        op = args.get("op")
        return op if isinstance(op, str) else ""

    def is_read_only_call(self, args: dict[str, Any]) -> bool:
        return args.get("op") in ("search", "read")

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        memory: MemoryAccess | None = ctx.services.get("memory")
        if memory is None:
            return ToolResult("memory is not available in this session", is_error=True)
        op = text_arg(args, "op")
        if op == "search":
            return ToolResult(memory.search(text_arg(args, "query")), summary=f"search {args.get('query')!r}")
        if op == "read":
            path = text_arg(args, "path", required=False, default="MEMORY.md") or "MEMORY.md"
            return ToolResult(_read(memory, ctx, path), summary=f"read {path}")
        if op == "append":
            result = memory.append(text_arg(args, "section", required=False), text_arg(args, "text"))
            return ToolResult(result, summary=result)
        if op == "note":
            result = memory.note(text_arg(args, "text"), int(ctx.services.get("turn", 0)))
            return ToolResult(result, summary=result)
        raise ToolInputError(f"unknown op {op!r}; use one of {', '.join(OPERATIONS)}")


def _read(memory: MemoryAccess, ctx: ToolContext, relpath: str) -> str:
    """A memory file under the file policy: inside the project, secret files withheld, config secrets masked."""
    relpath = relpath.strip().removeprefix("./").removeprefix(f"{MIMO_DIR}/")
    path = check_read(ctx.project_root, f"{MIMO_DIR}/{relpath}")
    if may_hold_secrets(ctx.project_root / MIMO_DIR / relpath, path):
        return withheld_note(display_path(ctx.project_root, path))
    return text_for_model(ctx.project_root, path, memory.read(relpath))
