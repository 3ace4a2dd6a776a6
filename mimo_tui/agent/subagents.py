"""Subagents: child sessions bound to one task of the parent's tree, with few tools and their own write sandbox.

- Tools: reading, searching, file edits and the task tool; no shell, no memory writes, no further subagents.
- Sandbox, enforced by the loop and the store, not by the prompt: project files only under the globs the
  parent gave (none: read-only); memory only the task's own progress.md (store role `subagent`); task
  operations only on its task and its subtasks.
- The parent's permission ask covers the child: starting one asks the user with its task and sandbox shown.
- Its task shows it in the task tree (in progress, "subagent a1 running" ...); typed `SubagentChanged`
  events go to the parent's subscriber. A child must write its progress log before its task is done (the
  task store's contract), and what finished children wrote goes into the next checkpoint
  (`progress_for_checkpoint`, then `checkpoint_written` once that checkpoint is committed).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev
from mimo_tui.agent.loop import AgentSession, AgentSettings
from mimo_tui.agent.tools.base import Tool, ToolContext
from mimo_tui.store import Writer
from mimo_tui.tasks import ABANDONED, DONE, Task, TaskChanged, TaskError, TaskStore

if TYPE_CHECKING:
    from mimo_tui.agent.permissions import PermissionPolicy

log = logging.getLogger(__name__)

SUBAGENT_TOOLS = ("read_file", "list_dir", "glob", "grep", "write_file", "edit_file", "task")
SUBAGENT_SESSION_MODE = "subagent"  # left out of "resume the last session"
RUNNING, FINISHED, FAILED, CANCELLED = "running", "finished", "failed", "cancelled"
MAX_RESULT_CHARS = 4000
LOST_CHILD = re.compile(r"^subagent a\d+ running$")


@dataclass
class Subagent:
    """One child session and how it is going."""

    id: str
    task_id: str
    session: AgentSession
    background: bool
    write_scope: tuple[str, ...]
    state: str = RUNNING
    result: str = ""
    runner: asyncio.Task[str] | None = field(default=None, repr=False)
    told: bool = False  # the parent model has read how it ended (agent op=wait/status, or a foreground start)
    tool_calls: int = 0

    def line(self) -> str:
        scope = ", ".join(self.write_scope) or "read-only"
        return f"{self.id} on {self.task_id} [{self.state}{', background' if self.background else ''}] writes: {scope}"


def child_block(task: Task, parent_session: str, scope: tuple[str, ...], progress_path: str) -> str:
    """The child's per-turn block (after the shared, cacheable system prompt)."""
    sandbox = ", ".join(scope) if scope else "nothing: you are read-only"
    return (
        f"You are a subagent bound to task {task.id} ({task.title}) of session {parent_session}. "
        f"You may write project files matching: {sandbox}. Only your task and its subtasks are yours.\n"
        f"Before you finish: write your progress log ({progress_path}) with the task tool, op=progress, "
        f"id={task.id} (intent, files, commands verbatim, outcome and discoveries), then mark {task.id} done "
        "(or block it with the reason). Your last message is handed back to the agent that started you."
    )


class SubagentRegistry:
    """The subagents of one parent session: start, list, wait, cancel; at most a few at once."""

    def __init__(self, parent: AgentSession, tasks: TaskStore, sessions: Any, base_tools: dict[str, Tool],
                 max_running: int = 4) -> None:
        self.parent = parent
        self.tasks = tasks
        self.sessions = sessions
        self.base_tools = base_tools
        self.max_running = max_running
        self.agents: dict[str, Subagent] = {}
        self._numbers = itertools.count(1)
        self._folded: set[str] = set()
        self._unsubscribe: Any = None  # set while children run: an abandoned task stops its child
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- starting -------------------------------------------------------------------------------
    async def start(self, task_id: str, prompt: str, write_scope: tuple[str, ...], background: bool) -> Subagent:
        parent_sid = self.parent.session_id
        task = self.tasks.get(parent_sid, task_id)
        if task.status in (DONE, ABANDONED):
            raise TaskError(f"{task.id} is {task.status}; create a new task for the subagent")
        busy = [a for a in self.agents.values() if a.task_id == task.id and a.state == RUNNING]
        if busy:
            raise TaskError(f"subagent {busy[0].id} is already working on {task.id}; wait for it or cancel it")
        if self.running_count() >= self.max_running:
            raise TaskError(f"{self.max_running} subagents are running already; wait for one (agent op=wait)")
        agent_id = f"a{next(self._numbers)}"
        self._watch_tasks()
        child = await asyncio.to_thread(self._open_child, agent_id, task, write_scope)
        record = Subagent(agent_id, task.id, child, background, write_scope)
        self.agents[agent_id] = record
        await asyncio.to_thread(self.tasks.assign, parent_sid, task.id, f"subagent {agent_id} running")
        self._changed(record)
        record.runner = asyncio.create_task(self._run(record, prompt), name=f"subagent {agent_id}")
        record.runner.add_done_callback(lambda runner: self._cancelled_early(record, runner))
        if not background:
            try:
                await asyncio.shield(record.runner)
            except asyncio.CancelledError:  # the parent's turn was cancelled: so is its foreground child
                record.session.cancel()
                record.runner.cancel()
                raise
        return record

    def mark_lost_children(self) -> None:
        """A resumed session's tasks still noted `subagent a1 running` had their child in a process that ended
        without saying so (killed): say it stopped, so the task tree does not show it working."""
        parent_sid = self.parent.session_id
        for task in self.tasks.list(parent_sid):
            if task.status not in (DONE, ABANDONED) and LOST_CHILD.match(task.note or ""):
                self.tasks.assign(parent_sid, task.id, f"{task.note.split(' running')[0]} stopped when its mimo process ended")

    def _open_child(self, agent_id: str, task: Task, scope: tuple[str, ...]) -> AgentSession:
        parent = self.parent
        parent_sid = parent.session_id
        session = self.sessions.create(parent.spec.name, SUBAGENT_SESSION_MODE,
                                       title=f"subagent {agent_id} of {parent_sid} on {task.id}: {task.title}")
        context = ToolContext(
            project_root=parent.context.project_root,
            session_id=session.id,
            services={
                **{k: v for k, v in parent.context.services.items() if k in ("store", "tasks", "sessions", "skills")},
                "task_session": parent_sid,
                "task_scope": task.id,
                "writer": Writer("subagent", session_id=parent_sid, task_id=task.id),
            },
        )
        progress_path = f".mimo/{self.tasks.progress_relpath(parent_sid, task.id)}"
        block = child_block(task, parent_sid, scope, progress_path)
        settings = AgentSettings(context_window=parent.settings.context_window, max_steps=parent.settings.max_steps,
                                 temperature=parent.settings.temperature, write_scope=scope)
        tools = {name: tool for name, tool in self.base_tools.items() if name in SUBAGENT_TOOLS}
        return AgentSession(
            gateway=parent.gateway, spec=parent.spec, sessions=self.sessions, session=session, tools=tools,
            policy=_child_policy(parent.policy), context=context, system_prompt=parent.system_prompt,
            subscriber=lambda event: self._child_event(agent_id, event), settings=settings,
            context_block=lambda _sid: block,
            spend_to=lambda completion: parent.account_helper(completion, f"subagent {agent_id}"),
        )

    async def _run(self, record: Subagent, prompt: str) -> str:
        try:
            return await self._run_turn(record, prompt)
        finally:
            # A child runs one turn: its queued session writes land and its writer thread ends with it.
            await asyncio.to_thread(record.session.close)

    async def _run_turn(self, record: Subagent, prompt: str) -> str:
        parent_sid = self.parent.session_id
        try:
            status = await record.session.run_turn(prompt)
        except asyncio.CancelledError:  # cancelled before its turn began
            status = ev.TURN_CANCELLED
        except Exception as exc:  # a bug in the child must not break the parent's turn
            log.exception("subagent %s failed", record.id)
            status, record.result = ev.TURN_FAILED, f"{type(exc).__name__}: {exc}"
        ended = [e for e in record.session.transcript if e.role == "assistant" and e.content]
        final = ended[-1].content if ended else ""
        record.state = {ev.TURN_DONE: FINISHED, ev.TURN_CANCELLED: CANCELLED}.get(status, FAILED)
        if record.state == FINISHED:
            record.result = final
        elif not record.result:
            ended = "it was stopped before it finished" if record.state == CANCELLED else f"the child's turn ended with {status}"
            record.result = ended + (f"; its last words: {final[:500]}" if final else "")
        try:
            task = await asyncio.to_thread(self.tasks.get, parent_sid, record.task_id)
            if task.status not in (DONE, ABANDONED):
                note = f"subagent {record.id} {record.state}" + ("" if task.status != "in_progress" else ", task not marked done")
                await asyncio.to_thread(self.tasks.assign, parent_sid, record.task_id, note)
        finally:  # the parent and the user hear how it ended whatever became of its task meanwhile
            self._changed(record)
        return record.state

    def _cancelled_early(self, record: Subagent, runner: asyncio.Task[str]) -> None:
        """A child cancelled before its coroutine ran never reached its own bookkeeping: do it here."""
        if not runner.cancelled() or record.state != RUNNING:
            return
        record.state, record.result = CANCELLED, "cancelled before its turn began"
        record.session.close()
        try:
            self.tasks.assign(self.parent.session_id, record.task_id, f"subagent {record.id} {CANCELLED}")
        except TaskError:
            pass  # the task was finished meanwhile; its status says enough
        self._changed(record)

    # -- asking about them ----------------------------------------------------------------------
    def get(self, agent_id: str) -> Subagent:
        record = self.agents.get(agent_id.strip())
        if record is None:
            known = ", ".join(self.agents) or "none yet"
            raise TaskError(f"no subagent {agent_id!r} in this session (subagents: {known})")
        return record

    async def wait(self, agent_id: str, timeout_s: float | None = None) -> Subagent:
        record = self.get(agent_id)
        if record.runner is not None and not record.runner.done():
            await asyncio.wait({record.runner}, timeout=timeout_s)
        return record

    async def wait_all(self, timeout_s: float | None = None) -> None:
        """Let every running child finish (a headless run waits for its background subagents)."""
        running = {a.runner for a in self.agents.values() if a.runner is not None and not a.runner.done()}
        if running:
            await asyncio.wait(running, timeout=timeout_s)

    async def stop_all(self, grace_s: float) -> None:
        """The parent session ends (quit, /new): its running children stop and store how far they got."""
        for record in list(self.agents.values()):
            if record.state == RUNNING:
                self.cancel(record.id)
        await self.wait_all(grace_s)

    def cancel(self, agent_id: str) -> Subagent:
        record = self.get(agent_id)
        if record.state == RUNNING and not record.session.cancel() and record.session.turn == 0 and record.runner:
            record.runner.cancel()  # its turn has not begun yet
        return record

    def report(self, record: Subagent) -> str:
        """What the parent model is told about a child: its state, its task, its final answer."""
        parent_sid = self.parent.session_id
        task = self.tasks.get(parent_sid, record.task_id)
        text = record.result if len(record.result) <= MAX_RESULT_CHARS else record.result[:MAX_RESULT_CHARS] + " [...]"
        lines = [f"subagent {record.line()}", f"task: {task.line().strip()}",
                 f"progress log: .mimo/{self.tasks.progress_relpath(parent_sid, record.task_id)}"]
        if record.state != RUNNING:
            record.told = True
            lines.append(f"its answer:\n{text}" if text else "it gave no answer")
        return "\n".join(lines)

    def steps(self, agent_id: str, limit: int = 60) -> list[str]:
        """What a child did so far, one line a step (its request, each tool call and result, its words): the
        newest `limit` of them."""
        lines: list[str] = []
        for message in self.get(agent_id).session.transcript:
            if message.role == "user":
                lines.append(f"asked: {_clip_line(message.content, 200)}")
            elif message.role == "assistant":
                if message.content.strip():
                    lines.append(f"said: {_clip_line(message.content, 200)}")
                for call in message.tool_calls:
                    function = call.get("function") or {}
                    lines.append(f"→ {_call_line(function.get('name', '?'), function.get('arguments', ''))}")
            elif message.role == "tool":
                lines.append(f"  {'✗' if message.is_error else '✓'} {_clip_line(message.content, 100)}")
        return lines[-limit:]

    def running_count(self) -> int:
        return sum(a.state == RUNNING for a in self.agents.values())

    def running_lines(self) -> list[str]:
        return [a.line() for a in self.agents.values() if a.state == RUNNING]

    def active_block(self) -> str:
        """The running children, and those that ended in the background without the parent reading how: one line
        each (the 'active subagents' block of every request)."""
        lines = self.running_lines()
        lines += [f"{a.line()}: ended, answer not read yet (agent op=wait id={a.id})"
                  for a in self.agents.values() if a.state != RUNNING and not a.told]
        return "\n".join(lines)

    def finished_progress(self) -> tuple[str, tuple[str, ...]]:
        """The progress logs of children finished and not yet in a committed checkpoint, and their ids."""
        parent_sid = self.parent.session_id
        parts, ids = [], []
        for record in self.agents.values():
            if record.state == RUNNING or record.id in self._folded:
                continue
            ids.append(record.id)
            text = self.tasks.progress_text(parent_sid, record.task_id) or ""
            parts.append(f"### subagent {record.id} on {record.task_id} ({record.state})\n{text.strip()}")
        return "\n\n".join(parts), tuple(ids)

    def folded(self, ids: tuple[str, ...]) -> None:
        """These children's progress is in a committed checkpoint; a failed writer leaves them for the next."""
        self._folded.update(ids)

    def _child_event(self, agent_id: str, event: Any) -> None:
        """What the parent hears of a child's turn while it works: each tool call, counted (and its asks answered)."""
        _answer_asks(event)
        record = self.agents.get(agent_id)
        if isinstance(event, ev.ToolCallStarted) and record is not None and record.state == RUNNING:
            record.tool_calls += 1
            self.parent.emit(wev.SubagentProgress(record.id, record.task_id, record.background, record.tool_calls,
                                                  _call_line(event.tool, event.arguments)))

    # -- its task abandoned ---------------------------------------------------------------------
    def _watch_tasks(self) -> None:
        """While children run, a task abandoned by anyone (the user's key, the parent's task tool) stops its child."""
        self._loop = asyncio.get_running_loop()
        if self._unsubscribe is None:
            self._unsubscribe = self.tasks.subscribe(self._task_changed)

    def _task_changed(self, change: TaskChanged) -> None:
        # Called on the thread that changed the task; the child is stopped on its own loop.
        if change.operation != "abandon" or change.session_id != self.parent.session_id or self._loop is None:
            return
        for record in list(self.agents.values()):
            if record.task_id == change.task_id and record.state == RUNNING:
                self._loop.call_soon_threadsafe(self.cancel, record.id)

    def _changed(self, record: Subagent) -> None:
        if self._unsubscribe is not None and not self.running_count():
            self._unsubscribe()
            self._unsubscribe = None
        summary = record.result.strip().splitlines()[0][:160] if record.state != RUNNING and record.result.strip() else ""
        self.parent.emit(wev.SubagentChanged(record.id, record.task_id, record.state, record.session.session_id,
                                             record.background, summary))


def _call_line(tool: str, arguments: Any) -> str:
    """`list_dir src` for a progress line: the tool and its main argument, short."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError:
            arguments = {}
    args = arguments if isinstance(arguments, dict) else {}
    main = next((str(args[k]) for k in ("path", "pattern", "query", "id", "op") if k in args), "")
    return f"{tool} {_clip_line(main, 60)}".strip()


def _clip_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _answer_asks(event: Any) -> None:
    """The child's subscriber: its writes are already inside the sandbox the user agreed to when it started;
    anything else that would ask (a secret file) is refused, since nobody watches a child's turn."""
    if isinstance(event, ev.PermissionRequest) and not event.answer.done():
        event.answer.set_result("once" if event.tool in ("write_file", "edit_file") else "reject")


def _child_policy(parent: PermissionPolicy) -> PermissionPolicy:
    from mimo_tui.agent.permissions import PermissionPolicy

    return PermissionPolicy(list(parent.rules))



def subagents_of(agent: AgentSession) -> SubagentRegistry | None:
    """The registry of an agent session's subagents (None for a child, which cannot start any)."""
    registry = agent.context.services.get("subagents")
    return registry if isinstance(registry, SubagentRegistry) else None


def progress_for_checkpoint(agent: AgentSession) -> tuple[str, tuple[str, ...]]:
    """Hook for the checkpoint writer, as it builds its prompt: what subagents finished since the last committed
    checkpoint wrote in their progress logs, then the ones still running ('' when nothing), and the ids to
    pass to `checkpoint_written` once the checkpoint is committed (so a failed writer loses nothing)."""
    registry = subagents_of(agent)
    if registry is None:
        return "", ()
    finished, ids = registry.finished_progress()
    running = "\n".join(registry.running_lines())
    parts = ([f"Subagents finished since the last checkpoint:\n\n{finished}"] if finished else []) + (
        [f"Subagents still running:\n{running}"] if running else [])
    return "\n\n".join(parts), ids


def checkpoint_written(agent: AgentSession, ids: tuple[str, ...]) -> None:
    """Hook for the checkpoint writer after its commit: these children's progress is in the checkpoint now."""
    registry = subagents_of(agent)
    if registry is not None:
        registry.folded(ids)
