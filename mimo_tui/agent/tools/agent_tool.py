"""The agent tool: hand one task of the tree to a subagent (a child session with few tools and a write sandbox)."""

from __future__ import annotations

import asyncio
from typing import Any

from mimo_tui.agent.tools.arguments import ToolInputError, schema, text_arg
from mimo_tui.agent.tools.base import ToolContext, ToolResult, ToolSpec
from mimo_tui.skills.agent_definitions import AgentDefinitionError, find_definition, list_definitions
from mimo_tui.tasks import TaskError

OPERATIONS = ("start", "status", "wait", "cancel")
READ_ONLY_OPS = ("status", "wait")


class AgentTool:
    """Start, watch, wait for and cancel subagents bound to tasks."""

    read_only = False
    spec = ToolSpec(
        "agent",
        "Subagents. op=start (task: a task id like T2, prompt: what to do, paths: globs of project files it may "
        "write, none = read-only, background: true to go on meanwhile, definition: the name of a subagent the "
        "project defines in .mimo/agents/<name>.md, whose instructions lead the prompt) runs a child agent on that task with read, "
        "search, file-edit and task tools; it writes the task's progress log and marks it done. op=status lists "
        "them (or one: id), op=wait (id) waits for one, op=cancel (id) stops one.",
        schema(
            {
                "op": {"type": "string", "enum": list(OPERATIONS)},
                "task": {"type": "string"},
                "prompt": {"type": "string"},
                "paths": {"type": "array", "items": {"type": "string"}},
                "background": {"type": "boolean"},
                "definition": {"type": "string"},
                "id": {"type": "string"},
            },
            ["op"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        """What the user is asked about: the task and the sandbox (`start T2 writes src/parser/*`)."""
        op = args.get("op")
        if op != "start":
            return op if isinstance(op, str) else ""
        try:
            paths = _paths(args)
        except ToolInputError:
            paths = ["?"]
        return f"start {str(args.get('task', '')).upper()} writes {', '.join(paths) if paths else 'nothing'}"

    def is_read_only_call(self, args: dict[str, Any]) -> bool:
        return args.get("op") in READ_ONLY_OPS

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        registry = ctx.services.get("subagents")
        if registry is None:
            return ToolResult("subagents are not available here (a subagent cannot start another)", is_error=True)
        op = text_arg(args, "op")
        try:
            if op == "start":
                background = args.get("background", False)
                if not isinstance(background, bool):
                    raise ToolInputError("argument 'background' must be true or false")
                prompt = await _with_definition(text_arg(args, "prompt"), text_arg(args, "definition", required=False),
                                                ctx)
                record = await registry.start(text_arg(args, "task").strip().upper(), prompt,
                                              tuple(_paths(args)), background)
                if background:
                    return ToolResult(f"started subagent {record.id} on {record.task_id} in the background; "
                                      f"agent op=wait id={record.id} waits for its answer", summary=f"{record.id} started")
                return ToolResult(registry.report(record), summary=f"{record.id} {record.state}",
                                  is_error=record.state != "finished")
            if op == "status":
                wanted = text_arg(args, "id", required=False)
                records = [registry.get(wanted)] if wanted else list(registry.agents.values())
                body = "\n\n".join(registry.report(r) for r in records) or "no subagents in this session"
                defined = await asyncio.to_thread(list_definitions, ctx.project_root)
                if defined and not wanted:
                    body += f"\n\ndefined subagents (definition=NAME): {', '.join(defined)}"
                return ToolResult(body, summary=f"{len(records)} subagent(s)")
            if op == "wait":
                record = await registry.wait(text_arg(args, "id"))
                return ToolResult(registry.report(record), summary=f"{record.id} {record.state}")
            if op == "cancel":
                record = registry.cancel(text_arg(args, "id"))
                return ToolResult(f"cancel sent to subagent {record.id} on {record.task_id}", summary=f"cancel {record.id}")
        except TaskError as exc:
            return ToolResult(str(exc), is_error=True)
        raise ToolInputError(f"unknown op {op!r}; use one of {', '.join(OPERATIONS)}")


def _paths(args: dict[str, Any]) -> list[str]:
    raw = args.get("paths") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise ToolInputError("argument 'paths' must be a list of glob strings like [\"src/parser/*\"]")
    return [p.strip().removeprefix("./") for p in raw if p.strip()]


async def _with_definition(prompt: str, name: str, ctx: ToolContext) -> str:
    """The prompt led by the instructions of the project's subagent `name` (.mimo/agents/<name>.md), when given."""
    name = name.strip()
    if not name:
        return prompt
    try:
        definition = await asyncio.to_thread(find_definition, ctx.project_root, name)
    except AgentDefinitionError as exc:
        raise ToolInputError(str(exc)) from exc
    if definition is None:
        have = await asyncio.to_thread(list_definitions, ctx.project_root)
        raise ToolInputError(f"no subagent definition {name!r} in .mimo/agents/ "
                             f"({'defined: ' + ', '.join(have) if have else 'none is defined'})")
    return definition.prompt_for(prompt)
