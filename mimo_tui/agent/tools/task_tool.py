"""The task tool: the session's task tree (create, list, get, start, block, unblock, done, abandon, rename)."""

from __future__ import annotations

from typing import Any

from mimo_tui.agent.tools.arguments import ToolInputError, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.tasks import TaskError, TaskStore

OPERATIONS = ("create", "list", "get", "start", "block", "unblock", "done", "abandon", "rename")


class TaskTool(BlockingTool):
    """Plan and track work as a tree of tasks T1, T1.1 ..."""

    read_only = False
    spec = ToolSpec(
        "task",
        "The session's task tree. op=create (title, optional parent like T1), list, get (id), start (id: puts it in "
        "focus), block (id, reason), unblock (id), done (id, note), abandon (id, reason), rename (id, title).",
        schema(
            {
                "op": {"type": "string", "enum": list(OPERATIONS)},
                "id": {"type": "string"},
                "title": {"type": "string"},
                "parent": {"type": "string"},
                "reason": {"type": "string"},
                "note": {"type": "string"},
            },
            ["op"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        op = args.get("op")
        return op if isinstance(op, str) else ""

    def is_read_only_call(self, args: dict[str, Any]) -> bool:
        return args.get("op") in ("list", "get")

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        tasks: TaskStore | None = ctx.services.get("tasks")
        if tasks is None:
            return ToolResult("the task store is not available", is_error=True)
        op = text_arg(args, "op")
        sid = ctx.session_id
        try:
            if op == "list":
                listed = tasks.list(sid)
                body = "\n".join(t.line() for t in listed) if listed else "no tasks yet"
                return ToolResult(body, summary=f"{len(listed)} task(s)")
            if op == "create":
                task = tasks.create(sid, text_arg(args, "title"), text_arg(args, "parent", required=False) or None)
                return ToolResult(f"created {task.id}: {task.title}", summary=f"created {task.id}")
            task_id = text_arg(args, "id")
            if op == "get":
                task = tasks.get(sid, task_id)
                return ToolResult(f"{task.line().strip()}\nprogress file: .mimo/{tasks.progress_relpath(sid, task.id)}")
            if op == "start":
                task = tasks.start(sid, task_id)
            elif op == "block":
                task = tasks.block(sid, task_id, text_arg(args, "reason", required=False))
            elif op == "unblock":
                task = tasks.unblock(sid, task_id)
            elif op == "done":
                task = tasks.done(sid, task_id, text_arg(args, "note", required=False))
            elif op == "abandon":
                task = tasks.abandon(sid, task_id, text_arg(args, "reason", required=False))
            elif op == "rename":
                task = tasks.rename(sid, task_id, text_arg(args, "title"))
            else:
                raise ToolInputError(f"unknown op {op!r}; use one of {', '.join(OPERATIONS)}")
        except TaskError as exc:
            return ToolResult(str(exc), is_error=True)
        return ToolResult(task.line().strip(), summary=f"{op} {task.id}")
