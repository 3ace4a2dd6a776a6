"""The task tool: the session's task tree (create, list, get, start, block, unblock, done, abandon, rename)."""

from __future__ import annotations

from typing import Any

from mimo_tui.agent.tools.arguments import ToolInputError, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.store import Writer
from mimo_tui.tasks import ProgressLog, TaskError, TaskStore

OPERATIONS = ("create", "list", "get", "start", "block", "unblock", "progress", "done", "abandon", "rename")


class TaskTool(BlockingTool):
    """Plan and track work as a tree of tasks T1, T1.1 ..."""

    read_only = False
    spec = ToolSpec(
        "task",
        "The session's task tree. op=create (title, optional parent like T1), list, get (id), start (id: puts it in "
        "focus), block (id, reason), unblock (id), progress (id, intent, files, commands, outcome: writes the task's "
        "progress.md; required before done), done (id, note), abandon (id, reason), rename (id, title).",
        schema(
            {
                "op": {"type": "string", "enum": list(OPERATIONS)},
                "id": {"type": "string"},
                "title": {"type": "string"},
                "parent": {"type": "string"},
                "reason": {"type": "string"},
                "note": {"type": "string"},
                "intent": {"type": "string", "description": "progress: what this task was for"},
                "files": {"type": "string", "description": "progress: files read or changed, paths exact"},
                "commands": {"type": "string", "description": "progress: commands run, verbatim, with outcome"},
                "outcome": {"type": "string", "description": "progress: what was achieved and learned"},
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
        # A subagent works on its parent session's tree, writing as the subagent bound to its task.
        sid = str(ctx.services.get("task_session") or ctx.session_id)
        try:
            if op == "list":
                listed = tasks.list(sid)
                body = "\n".join(t.line() for t in listed) if listed else "no tasks yet"
                return ToolResult(body, summary=f"{len(listed)} task(s)")
            if op == "create":
                parent = text_arg(args, "parent", required=False) or None
                scope = ctx.services.get("task_scope")
                if scope and not (parent and _within(parent, scope)):
                    return ToolResult(f"a subagent creates only subtasks of its task: pass parent={scope}", is_error=True)
                task = tasks.create(sid, text_arg(args, "title"), parent)
                return ToolResult(f"created {task.id}: {task.title}", summary=f"created {task.id}")
            task_id = text_arg(args, "id")
            scope = ctx.services.get("task_scope")  # a subagent may change only its own task and its subtasks
            if scope and op != "get" and not _within(task_id, scope):
                return ToolResult(f"{task_id} is not yours: this subagent works on {scope} and its subtasks only",
                                  is_error=True)
            if op == "get":
                task = tasks.get(sid, task_id)
                return ToolResult(f"{task.line().strip()}\nprogress file: .mimo/{tasks.progress_relpath(sid, task.id)}")
            if op == "start" and scope:  # a subagent's task shows it is being worked on without taking the focus
                task = tasks.assign(sid, task_id, "subagent working")
            elif op == "start":
                task = tasks.start(sid, task_id)
            elif op == "block":
                task = tasks.block(sid, task_id, text_arg(args, "reason", required=False))
            elif op == "unblock":
                task = tasks.unblock(sid, task_id)
            elif op == "progress":
                return self._progress(tasks, sid, task_id, args, ctx)
            elif op == "done":
                task = tasks.done(sid, task_id, text_arg(args, "note", required=False), require_progress=True)
            elif op == "abandon":
                task = tasks.abandon(sid, task_id, text_arg(args, "reason", required=False))
            elif op == "rename":
                task = tasks.rename(sid, task_id, text_arg(args, "title"))
            else:
                raise ToolInputError(f"unknown op {op!r}; use one of {', '.join(OPERATIONS)}")
        except TaskError as exc:
            return ToolResult(str(exc), is_error=True)
        return ToolResult(task.line().strip(), summary=f"{op} {task.id}")

    @staticmethod
    def _progress(tasks: TaskStore, sid: str, task_id: str, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        log = ProgressLog(*(text_arg(args, key, required=False) for key in ("intent", "files", "commands", "outcome")))
        if not log.outcome.strip():
            raise ToolInputError("op=progress needs outcome: what was achieved and what was learned")
        writer = ctx.services.get("writer") or Writer("agent", session_id=sid)
        relpath = tasks.write_progress(sid, task_id, log, writer)
        return ToolResult(f"wrote .mimo/{relpath}", summary=f"progress {task_id.upper()}")


def _within(task_id: str, scope: str) -> bool:
    task_id = task_id.strip().upper()
    return task_id == scope or task_id.startswith(scope + ".")
