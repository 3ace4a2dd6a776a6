"""The background checkpoint writer: one model call that turns the session so far into checkpoint.md.

It runs beside the main agent (an asyncio task), one per session with one queued request behind it (the
newest wins). It is not an agent: it has its own prompt, never the main task's tools, and is never asked
to "go on": its answer is read as a checkpoint and nothing else. Every write goes through the store as the
`checkpoint-writer` role, whose sandbox is the session's memory files (plus adding lines to MEMORY.md);
anything else it asks to write is refused and reported. After three failures in a row it stops and says so,
and the watermark of what was checkpointed stays where it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mimo_tui.agent import events as ev
from mimo_tui.agent.checkpoint_doc import (compose, for_writer, memory_with_facts, notes_entries, read_reply,
                                           reset_notes, topic_of)
from mimo_tui.agent.checkpoint_spills import PreviousSpill, load_previous_spills, stale_spills
from mimo_tui.agent.context_limits import ContextLimits
from mimo_tui.agent.writer_lease import WriterLease, lease_path
from mimo_tui.llm import ModelError, ModelSpec
from mimo_tui.memory.layers import SessionLayout
from mimo_tui.memory.templates import CHECKPOINT_SECTIONS, PROJECT_MAX_BYTES
from mimo_tui.sessions import SessionStore, StoredMessage
from mimo_tui.sessions.context_state import ContextStateStore
from mimo_tui.store import StoreError, VersionedStore, Writer

log = logging.getLogger(__name__)

MAX_FAILURES = 3
WRITER_OUTPUT_TOKENS = 4000
TOOL_OUTPUT_CHARS = 2000
MESSAGE_CHARS = 8000
WRITE_TOOL = {
    "type": "function",
    "function": {
        "name": "write_memory_file",
        "description": "Write a spill-over file of this session's checkpoint: path checkpoint-<topic>.md.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
}


def writer_system_prompt() -> str:
    sections = "\n".join(f"## §{n} {spec.title}  (at most {spec.budget} tokens) — {spec.instruction}"
                         for n, spec in enumerate(CHECKPOINT_SECTIONS, 1))
    return (
        "You are the checkpoint writer of a coding-agent session. You do not work on the task: you record it.\n"
        "Answer with the session checkpoint in markdown, exactly these eleven sections, in this order:\n"
        f"{sections}\n"
        "Copy literal values (paths, ports, commands, ids, versions, error text) byte for byte. Quote the user's "
        "request verbatim in §1. Leave §4 empty: the task tree is filled in from the task store. Keep what still "
        "holds from the previous checkpoint; drop what is superseded. A long section may be shown in part: the part "
        "not shown is kept after what you write; answer a section with its `→ spilled to` line to keep it as it is.\n"
        "After the eleven sections you may add `## Durable facts` with one `- ` line per fact that stays true "
        "across sessions (it is appended to the project's MEMORY.md).\n"
        "Your answer is your completion: it is written to checkpoint.md as it is. Do not call tools for the task."
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n[… {len(text) - limit} more characters]"


def transcript_lines(messages: list[StoredMessage]) -> list[str]:
    """The conversation as plain text for the writer, long tool outputs clipped."""
    lines: list[str] = []
    for message in messages:
        if message.role == "user":
            lines.append(f"[user, turn {message.turn}]\n{_clip(message.content, MESSAGE_CHARS)}")
        elif message.role == "assistant":
            calls = "".join(f"\n→ {c.get('function', {}).get('name')} {c.get('function', {}).get('arguments', '')[:500]}"
                            for c in message.tool_calls)
            if message.content or calls:
                lines.append(f"[assistant, turn {message.turn}]\n{_clip(message.content, MESSAGE_CHARS)}{calls}")
        elif message.role == "tool":
            lines.append(f"[{message.tool_name} result{' (error)' if message.is_error else ''}]\n"
                         f"{_clip(message.content, TOOL_OUTPUT_CHARS)}")
    return lines


class CheckpointWriter:
    """Writes `sessions/<sid>/checkpoint.md` in the background; `request` starts or queues a run."""

    def __init__(
        self,
        *,
        gateway: Any,
        spec: ModelSpec,
        store: VersionedStore,
        sessions: SessionStore,
        state: ContextStateStore,
        session_id: str,
        limits: ContextLimits,
        task_tree: Callable[[str], str],
        emit: Callable[[Any], None],
        subagent_progress: Callable[[], tuple[str, tuple[str, ...]]] | None = None,
        subagents_folded: Callable[[tuple[str, ...]], None] | None = None,
        spent: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.spec = spec
        self.store = store
        self.sessions = sessions
        self.state = state
        self.session_id = session_id
        self.limits = limits
        self.task_tree = task_tree
        self.emit = emit
        # What finished subagents wrote (agent/subagents.py), and the call that marks it checkpointed.
        self.subagent_progress = subagent_progress
        self.subagents_folded = subagents_folded
        self.spent = spent  # counts each call in the session's spend
        self._subagents_in_prompt: tuple[str, ...] = ()
        # The spilled sections of the previous checkpoint as the running call was shown them (merged at commit).
        self._previous_spills: dict[int, PreviousSpill] = {}
        self._previous_text = ""
        self.layout = SessionLayout(session_id)
        self.role = Writer("checkpoint-writer", session_id=session_id)
        self.refused: list[str] = []
        self.runs = 0
        self._task: asyncio.Task[None] | None = None
        self._queued: str | None = None
        self._failures = state.get(session_id).failures
        self.stopped = self._failures >= MAX_FAILURES
        # One writer per session across processes: a TUI and a `mimo run` on the same session never both write.
        self._lease = WriterLease(lease_path(store.root, session_id))
        # The holder last told about: every threshold crossed while another process writes would say it again.
        self._busy_told: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def last_checkpoint_at(self) -> float:
        return self.state.get(self.session_id).last_checkpoint_at

    def has_checkpoint(self) -> bool:
        return (self.store.root / self.layout.checkpoint).is_file()

    def request(self, reason: str) -> str:
        """Start a run now, or queue one behind the running one (the newest request wins); says which."""
        if self.stopped:
            return "stopped"
        if self.running:
            self._queued = reason
            return "queued"
        if not self._lease.try_acquire():
            holder = self._lease.holder()
            if holder != self._busy_told:
                self._busy_told = holder
                self.emit(ev.CheckpointFinished(self.session_id, "busy", f"{holder} is writing this session's "
                                                "checkpoint; this process leaves it to that one"))
            return "busy"
        self._busy_told = None
        self._task = asyncio.get_running_loop().create_task(self._runs(reason), name=f"checkpoint-{self.session_id}")
        return "started"

    async def wait(self, timeout: float) -> bool:
        """Wait for the running run and the queued one; False when `timeout` passed first (they go on)."""
        deadline = time.monotonic() + timeout
        while self.running:
            assert self._task is not None
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            await asyncio.wait({self._task}, timeout=left)
        return True

    def resume_failures(self) -> None:
        """Let a stopped writer try again (the user asked for /checkpoint)."""
        self._failures = 0
        self.stopped = False
        self.state.update(self.session_id, failures=0)

    async def _runs(self, reason: str) -> None:
        try:
            while True:
                finished = await self._run_once(reason)
                if self._queued is None or self.stopped:
                    self._queued = None
                    # Told once this task is done, so a status drawn on the event shows the writer idle.
                    task = asyncio.current_task()
                    assert task is not None
                    task.add_done_callback(lambda _task: self.emit(finished))
                    return
                self.emit(finished)
                reason, self._queued = self._queued, None
        finally:
            self._lease.release()

    async def _run_once(self, reason: str) -> ev.CheckpointFinished:
        self.runs += 1
        self.emit(ev.CheckpointStarted(self.session_id, reason))
        try:
            message, refused = await self._write_checkpoint()
        except asyncio.CancelledError:
            raise
        except (ModelError, StoreError, OSError, ValueError) as exc:
            return self._failed(str(exc))
        except Exception as exc:  # a bug here must not take the main turn down; it counts as a failure
            log.exception("checkpoint writer failed")
            return self._failed(f"{type(exc).__name__}: {exc}")
        self._failures = 0
        return ev.CheckpointFinished(self.session_id, "done", message, self.last_checkpoint_at, tuple(refused))

    def _failed(self, why: str) -> ev.CheckpointFinished:
        self._failures += 1
        self.state.update(self.session_id, failures=self._failures)
        if self._failures >= MAX_FAILURES:
            self.stopped = True
            return ev.CheckpointFinished(
                self.session_id, "stopped",
                f"the checkpoint writer stopped after {self._failures} failures in a row ({why}); the last checkpoint "
                "stays as it was; /checkpoint tries again", refused=tuple(self.refused))
        return ev.CheckpointFinished(self.session_id, "failed", f"checkpoint not written: {why}", refused=tuple(self.refused))

    # -- one run ------------------------------------------------------------------------------
    def _prompt(self) -> tuple[list[dict[str, Any]], int]:
        """The writer's messages and the last message id they cover."""
        state = self.state.get(self.session_id)
        transcript = [m for m in self.sessions.messages(self.session_id) if m.status != "error"]
        upto = transcript[-1].id if transcript else state.watermark
        previous_text = self._previous_text = self.store.read(self.layout.checkpoint).text or ""
        self._previous_spills = load_previous_spills(previous_text, lambda rel: self.store.read(rel).text,
                                                     self.layout.folder, self.limits.usable // 4)
        previous = for_writer(previous_text, self._previous_spills) or "(none yet)"
        notes = self.store.read(self.layout.notes).text or ""
        budget_chars = max(8000, (self.limits.usable - WRITER_OUTPUT_TOKENS - 3000) * 4 - len(previous) - len(notes))
        lines = transcript_lines([m for m in transcript if m.id > state.watermark])
        kept: list[str] = []
        used = 0
        for line in reversed(lines):  # newest first; the oldest go when the budget is spent
            if used + len(line) > budget_chars:
                break
            kept.append(line)
            used += len(line)
        kept.reverse()
        first_user = next((m.content for m in transcript if m.role == "user"), "")
        skipped = len(lines) - len(kept)
        subagents, self._subagents_in_prompt = self.subagent_progress() if self.subagent_progress else ("", ())
        parts = [
            f"Session {self.session_id}. The user's first request, verbatim:\n> {_clip(first_user, 2000)}",
            f"Previous checkpoint:\n{previous}",
            f"Session notes (folded in by the app, byte for byte):\n{notes}" if "## [turn" in notes else "",
            f"Task tree (from the task store):\n{self.task_tree(self.session_id) or '(no tasks)'}",
            f"Subagents' progress logs (fold what matters into the sections):\n{subagents}" if subagents else "",
            (f"[{skipped} older messages since the last checkpoint left out]\n" if skipped else "")
            + "Conversation since the last checkpoint:\n\n" + "\n\n".join(kept),
            "Write the checkpoint now.",
        ]
        user = "\n\n".join(part for part in parts if part)
        return [{"role": "system", "content": writer_system_prompt()}, {"role": "user", "content": user}], upto

    async def _write_checkpoint(self) -> tuple[str, list[str]]:
        messages, upto = await asyncio.to_thread(self._prompt)
        completion = await self.gateway.complete(self.spec, messages, [WRITE_TOOL], max_tokens=WRITER_OUTPUT_TOKENS)
        if self.spent is not None:
            await self.spent(completion)
        refused = await asyncio.to_thread(self._tool_writes, completion.tool_calls)
        reply = read_reply(completion.text or "", cut_off=completion.finish_reason == "length")
        if not reply.usable:
            raise ValueError("the writer's answer held none of the checkpoint's sections")
        message = await asyncio.to_thread(self._commit, reply, upto)
        return message, refused

    def _tool_writes(self, calls: list[Any]) -> list[str]:
        """Writes the writer asked for by tool call: only `write_memory_file` inside its sandbox is made."""
        refused: list[str] = []
        for call in calls:
            try:
                args = json.loads(call.arguments or "{}")
            except ValueError:
                args = {}
            path = str(args.get("path") or args.get("file") or "") if isinstance(args, dict) else ""
            if call.name != WRITE_TOOL["function"]["name"]:
                refused.append(f"{call.name} {path}".strip() + ": not a checkpoint-writer tool")
                continue
            rel = path.removeprefix(".mimo/")
            if re.fullmatch(r"checkpoint-[A-Za-z0-9_.-]+\.md", rel):
                rel = self.layout.spill(rel[len("checkpoint-"):-len(".md")])
            try:
                self.store.write(rel, str(args.get("content", "")), self.role,
                                 message=f"memory: checkpoint-writer wrote {rel}")
            except StoreError as exc:
                refused.append(f"{path}: {exc}")
        for note in refused:
            log.warning("checkpoint writer of %s: refused %s", self.session_id, note)
        self.refused.extend(refused)
        return refused

    def _commit(self, reply: Any, upto: int) -> str:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(now))
        notes_text = self.store.read(self.layout.notes).text or ""
        folded = notes_entries(notes_text)
        existing = frozenset(path.name for path in (self.store.root / self.layout.folder).glob("checkpoint-*.md"))
        files = compose(self.session_id, reply, self.task_tree(self.session_id), folded, stamp, self.layout.folder,
                        self._previous_spills, existing, self._previous_text)
        for rel, text in files.spills.items():
            self.store.write(rel, text, self.role, message=f"memory: checkpoint-writer spilled {rel.rsplit('/', 1)[-1]}")
        self.store.write(self.layout.checkpoint, files.checkpoint, self.role,
                         message=f"memory: checkpoint-writer updated the checkpoint of session {self.session_id}")
        # A section back under its budget is inline now: its old spill file goes (it stays in git history), so no
        # file beside checkpoint.md holds a section the checkpoint no longer points to.
        on_disk = {n: self.layout.spill(topic_of(n)) for n in range(1, len(CHECKPOINT_SECTIONS) + 1)
                   if (self.store.root / self.layout.spill(topic_of(n))).is_file()}
        for rel in stale_spills(files.checkpoint, on_disk):
            self.store.delete(rel, self.role, message=f"memory: checkpoint-writer removed {rel.rsplit('/', 1)[-1]}, "
                              "its section fits in checkpoint.md again")
        if folded:
            current = self.store.read(self.layout.notes)
            self.store.write(self.layout.notes, reset_notes(self.session_id), self.role, base_digest=current.digest,
                             message=f"memory: checkpoint-writer folded {len(folded)} notes into the checkpoint")
        added: list[str] = []
        if reply.durable:
            current = self.store.read("MEMORY.md")
            text, added = memory_with_facts(current.text or "", reply.durable, self.session_id, stamp[:10],
                                            PROJECT_MAX_BYTES)
            if added:
                self.store.write("MEMORY.md", text, self.role, base_digest=current.digest,
                                 message=f"memory: checkpoint-writer added {len(added)} durable facts")
        self.state.update(self.session_id, watermark=upto, last_checkpoint_at=now, failures=0)
        if self.subagents_folded is not None and self._subagents_in_prompt:
            self.subagents_folded(self._subagents_in_prompt)
        spilled = f", {len(files.spills)} sections spilled" if files.spills else ""
        return (f"checkpoint written (messages up to #{upto}{spilled}, {len(folded)} notes folded, "
                f"{len(added)} facts added to MEMORY.md)")


__all__ = ["CheckpointWriter", "MAX_FAILURES", "writer_system_prompt"]
