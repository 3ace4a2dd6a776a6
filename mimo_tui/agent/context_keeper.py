"""Keeps a session's context inside its window: starts the checkpoint writer at thresholds, rebuilds when full.

A rebuild sends, after the system prompt, the memory block in REFERENCE's order and caps (the checkpoint,
focus task, the user's own earlier messages verbatim ...) and then a verbatim tail of the conversation
(10K-20K tokens, at least 5 text messages, a tool call never split from its results, old bulky tool outputs
cleared). The point where the tail starts is kept in state.db, so later turns (and other processes) send
the same rebuilt context until the next rebuild. Without a checkpoint, a summarising compaction stands in.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from mimo_tui.agent import events as ev
from mimo_tui.agent.checkpoint_writer import CheckpointWriter, transcript_lines
from mimo_tui.agent.context_limits import ContextLimits
from mimo_tui.llm import ModelError, ModelSpec
from mimo_tui.memory.context import ContextAssembler, ContextSources
from mimo_tui.memory.tokens import count_tokens
from mimo_tui.sessions import StoredMessage
from mimo_tui.sessions.context_state import ContextStateStore

log = logging.getLogger(__name__)

TAIL_MIN_TOKENS = 10_000
TAIL_MAX_TOKENS = 20_000
TAIL_MIN_TEXT_MESSAGES = 5
KEEP_TOOL_OUTPUTS = 3
BULKY_CHARS = 2_000
WRITER_WAIT_S = 60.0
SUMMARY_TOKENS = 2_000
# How providers word a request over the model's window (OpenAI, Anthropic, litellm, vLLM, Ollama ...).
OVERFLOW = re.compile(r"context[_ ]length|context window|maximum context|too many tokens|prompt is too long"
                      r"|input is too long|exceeds? (the )?(max|maximum|context)")
ANSWER_LINE = "The conversation continues below with the user's latest message: answer it."
FINISHED_LINE = (f"{ANSWER_LINE} Tasks listed above may already be finished; check before resuming any of them.")
SUMMARY_PROMPT = ("Summarise this coding-agent conversation for the agent that continues it: the user's requests "
                  "(quoted), decisions, discoveries, files and commands (byte for byte), errors and fixes, and what "
                  "is left to do. Markdown, at most {tokens} tokens.")


def message_tokens(message: StoredMessage, cache: dict[tuple[int, int], int]) -> int:
    key = (message.id, len(message.content))
    found = cache.get(key)
    if found is None:
        calls = "".join(str(c.get("function", {}).get("arguments", "")) for c in message.tool_calls)
        found = cache[key] = count_tokens(message.content) + count_tokens(calls) + 4
    return found


def is_text_message(message: StoredMessage) -> bool:
    return message.role in ("user", "assistant") and bool(message.content.strip())


def tail_start(messages: list[StoredMessage], max_tokens: int, cache: dict[tuple[int, int], int],
               min_tokens: int = TAIL_MIN_TOKENS, min_text: int = TAIL_MIN_TEXT_MESSAGES) -> int:
    """Index in `messages` where the verbatim tail starts.

    Whole units only (an assistant message with its tool results), newest first, until the tail holds
    `min_tokens` and `min_text` text messages, without going past `max_tokens` (the newest unit is always kept).
    """
    units: list[tuple[int, int, int]] = []  # (start index, tokens, text messages), newest first
    end = len(messages)
    index = end - 1
    while index >= 0:
        start = index
        while start > 0 and messages[start].role == "tool":
            start -= 1  # a tool result stays with the call that asked for it
        chunk = messages[start:end]
        units.append((start, sum(message_tokens(m, cache) for m in chunk), sum(is_text_message(m) for m in chunk)))
        end = start
        index = start - 1
    if not units:
        return 0
    start, tokens, texts = units[0]
    for unit_start, unit_tokens, unit_texts in units[1:]:
        if tokens >= min_tokens and texts >= min_text:
            break
        if tokens + unit_tokens > max_tokens:
            break
        start, tokens, texts = unit_start, tokens + unit_tokens, texts + unit_texts
    return start


def tail_floor(limits: ContextLimits) -> int:
    """REFERENCE's 10K tail floor, scaled down for windows under 50K usable to a fifth of it, so a rebuilt context
    (tail and memory) leaves at least as much room to work before the next rebuild as it keeps."""
    return min(TAIL_MIN_TOKENS, limits.usable // 5)


def tail_bounds(limits: ContextLimits, memory: int, fixed: int) -> tuple[int, int]:
    """The verbatim tail's floor and ceiling at a rebuild, beside `memory` and `fixed` (system prompt, reminder)."""
    ceiling = max(1_000, min(TAIL_MAX_TOKENS, limits.usable // 2, int(limits.top * 0.9) - fixed - memory))
    return min(tail_floor(limits), ceiling), ceiling


def cleared_outputs(messages: list[StoredMessage]) -> list[StoredMessage]:
    """The tail with old bulky tool outputs replaced by a line saying what was there (the newest few stay)."""
    tool_indexes = [i for i, m in enumerate(messages) if m.role == "tool"]
    keep = set(tool_indexes[-KEEP_TOOL_OUTPUTS:])
    out: list[StoredMessage] = []
    for index, message in enumerate(messages):
        if message.role == "tool" and index not in keep and len(message.content) > BULKY_CHARS:
            note = (f"[output of {message.tool_name} cleared at a context rebuild: {len(message.content)} characters; "
                    "run the tool again or search the session history if it is needed]")
            message = dataclasses.replace(message, content=note)
        out.append(message)
    return out


@dataclasses.dataclass(frozen=True)
class RebuiltContext:
    """Where a session's sent context starts after its last rebuild, and the memory block sent before it."""

    rebuilt_from: int  # the first message id sent verbatim
    from_checkpoint: bool
    injected: str
    tokens: int  # of the context the next request sends, before the user's new message


class ContextKeeper:
    """One session's thresholds, checkpoint writer and rebuilds."""

    def __init__(
        self,
        *,
        session_id: str,
        limits: ContextLimits,
        writer: CheckpointWriter,
        state: ContextStateStore,
        assembler: ContextAssembler,
        gateway: Any,
        spec: ModelSpec,
        emit: Callable[[Any], None],
        writer_wait_s: float = WRITER_WAIT_S,
        spent: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.session_id = session_id
        self.limits = limits
        self.writer = writer
        self.state = state
        self.assembler = assembler
        self.gateway = gateway
        self.spec = spec
        self.emit = emit
        self.writer_wait_s = writer_wait_s
        self.spent = spent  # counts the summariser's call in the session's spend
        self.tokens = 0
        self.last_request_tokens = 0
        self._cache: dict[tuple[int, int], int] = {}
        self._pending: str | None = None
        self._recent_users: list[str] = []
        self._tail_users: list[str] = []
        self._mid_turn = False
        self._overflow_retried = False

    # -- thresholds -----------------------------------------------------------------------------
    def status(self) -> ev.ContextStatus:
        return ev.ContextStatus(self.tokens, self.limits.window, self.limits.usable, self.limits.first, self.limits.top,
                                self.writer.running, self.writer.last_checkpoint_at, self.writer.stopped)

    def observe(self, before: int, after: int) -> None:
        """The context went from `before` to `after` tokens: start the writer at a threshold crossed."""
        self.tokens = after
        crossed = self.limits.crossed(before, after)
        if crossed is not None:
            self.writer.request(f"context passed {crossed:,} tokens")
        self.emit(self.status())

    def request_checkpoint(self) -> str:
        """/checkpoint: write one now (a stopped writer is given another try)."""
        if self.writer.stopped:
            self.writer.resume_failures()
        return self.writer.request("on demand")

    def request_compact(self) -> None:
        """/compact: rebuild before the next model request."""
        self._pending = "on demand"

    def overflowed(self, error: ModelError) -> bool:
        """The provider refused the request as too long: rebuild and send it again, once per request."""
        text = f"{error.message} {error.provider_message}".lower()
        if self._overflow_retried or not OVERFLOW.search(text):
            self._overflow_retried = False
            return False
        self._overflow_retried = True
        self._pending = "the provider said the context is too long"
        return True

    async def finish(self, timeout: float) -> bool:
        """Let a running checkpoint finish (a headless run waits for it before the process exits)."""
        return await self.writer.wait(timeout)

    # -- the request ------------------------------------------------------------------------------
    def estimate(self, messages: list[StoredMessage], extra: str) -> int:
        return count_tokens(extra) + sum(message_tokens(m, self._cache) for m in messages)

    async def prepare(self, transcript: list[StoredMessage], system: str, reminder: str, *, mid_turn: bool,
                      plain_block: Callable[[], str]) -> list[dict[str, Any]]:
        """The messages of the next model request: rebuilt first when the context is over the top threshold."""
        from mimo_tui.agent.loop import messages_for_model

        self._mid_turn = mid_turn
        state = self.state.get(self.session_id)
        visible = [m for m in transcript if m.id >= state.rebuilt_from]
        block = (self._block(transcript, state.rebuilt_from, state.summary, state.rebuilt_to) if state.rebuilds
                 else plain_block())
        estimate = self.estimate(visible, system + block + reminder)
        reason = self._pending or (f"the context ({estimate:,} tokens) passed the top threshold ({self.limits.top:,})"
                                   if estimate > self.limits.top else None)
        self._pending = None
        if reason is not None:
            rebuilt = await self._rebuild(transcript, visible, system, reminder, reason, estimate)
            if rebuilt is not None:
                visible, block = rebuilt
        if reason is None:
            self._overflow_retried = False
        extra = f"{block}\n\n{reminder}" if block else reminder
        messages = [{"role": "system", "content": system}, {"role": "system", "content": extra}]
        self.last_request_tokens = self.estimate(visible, system + extra)
        if self.last_request_tokens > self.tokens:
            self.tokens = self.last_request_tokens
            self.emit(self.status())
        return messages + messages_for_model(cleared_outputs(visible) if state.rebuilds or reason else visible)

    def _block(self, transcript: list[StoredMessage], rebuilt_from: int, summary: str, rebuilt_to: int) -> str:
        """The rebuild's memory block: REFERENCE's order and caps, the user's earlier messages verbatim.

        The user's messages in the tail as it was rebuilt (`rebuilt_from`..`rebuilt_to`) count toward the
        recent-messages cap; later ones do not, so the block stays the same from turn to turn until the next rebuild.
        """
        self._recent_users = [m.content for m in transcript if m.role == "user" and m.id < rebuilt_from]
        self._tail_users = [m.content for m in transcript if m.role == "user" and rebuilt_from <= m.id <= rebuilt_to]
        # The memory's caps shrink against what a rebuilt context has beside the verbatim tail's floor, so it lands
        # well under the top threshold and the session works a while before the next rebuild.
        built = self.assembler.build(self.session_id, self.limits.window, room=self.limits.top - tail_floor(self.limits))
        if not self._mid_turn:
            listed = not (built.block("task_ledger").empty and built.block("focus_task").empty)
            built = dataclasses.replace(built, resume_line=FINISHED_LINE if listed else ANSWER_LINE)
        text = built.text
        if summary and built.block("checkpoint").empty:
            text = f'<memory block="conversation_summary">\n{summary}\n</memory>\n\n{text}'
        return text

    def rebuilt_context(self, transcript: list[StoredMessage], system: str) -> RebuiltContext | None:
        """What a resumed session's next request sends in place of its older messages (None: never rebuilt).

        Reads the memory files: call it off the UI's event loop.
        """
        state = self.state.get(self.session_id)
        if not state.rebuilds:
            return None
        self._mid_turn = False
        block = self._block(transcript, state.rebuilt_from, state.summary, state.rebuilt_to)
        visible = [m for m in transcript if m.id >= state.rebuilt_from]
        return RebuiltContext(state.rebuilt_from, not state.summary, block, self.estimate(visible, system + block))

    def recent_user_messages(self, session_id: str) -> list[str]:
        return list(self._recent_users) if session_id == self.session_id else []

    def user_messages_in_tail(self, session_id: str) -> list[str]:
        return list(self._tail_users) if session_id == self.session_id else []

    async def _rebuild(self, transcript: list[StoredMessage], visible: list[StoredMessage], system: str,
                       reminder: str, reason: str, before: int) -> tuple[list[StoredMessage], str] | None:
        if self.writer.running:
            await self._wait_for_writer()
        fixed = count_tokens(system + reminder)
        # Memory first (its caps shrink with the room beside the tail floor), the tail in what is left, so the rebuilt
        # context lands under the top threshold and the next request does not rebuild again.
        newest = visible[-1].id if visible else 0
        probe = self._block(transcript, newest, "", newest)
        memory = count_tokens(probe)
        floor, ceiling = tail_bounds(self.limits, memory, fixed)
        start = tail_start(visible, ceiling, self._cache, floor)
        if start <= 0:
            return None  # nothing older than the tail to drop: a rebuild would change nothing
        tail = visible[start:]
        dropped = visible[:start]
        summary = ""
        if self.limits.thresholds and not self.writer.stopped and self.state.get(self.session_id).watermark < dropped[-1].id:
            # What is about to leave the context must be in the checkpoint first.
            self.writer.request("before a context rebuild")
            await self._wait_for_writer()
        from_checkpoint = self.writer.has_checkpoint()
        if not from_checkpoint:
            summary = await self._summarise(self.state.get(self.session_id).summary, dropped)
        state = self.state.get(self.session_id)
        state = self.state.update(self.session_id, rebuilt_from=tail[0].id, rebuilt_to=tail[-1].id,
                                  rebuilds=state.rebuilds + 1, summary=summary)
        block = self._block(transcript, state.rebuilt_from, summary, state.rebuilt_to)
        after = self.estimate(tail, system + block + reminder)
        self.tokens = after
        self.emit(ev.ContextRebuilt(self.session_id, reason, from_checkpoint, before, after, block, len(tail)))
        self.emit(self.status())
        return tail, block

    async def _wait_for_writer(self) -> None:
        if self.writer.running:
            self.emit(ev.RebuildWaiting(self.session_id, self.writer_wait_s))
        await self.writer.wait(self.writer_wait_s)

    async def _summarise(self, previous: str, dropped: list[StoredMessage]) -> str:
        """Summarising compaction, only when there is no checkpoint: one model call over the dropped messages."""
        lines = transcript_lines(dropped)
        budget = max(8_000, (self.limits.usable - SUMMARY_TOKENS - 2_000) * 4 - len(previous))
        text = "\n\n".join(lines)
        if len(text) > budget:
            text = "[older part left out]\n" + text[-budget:]
        prompt = SUMMARY_PROMPT.format(tokens=SUMMARY_TOKENS)
        body = (f"Earlier summary:\n{previous}\n\n" if previous else "") + f"Conversation:\n\n{text}"
        try:
            completion = await self.gateway.complete(
                self.spec, [{"role": "system", "content": prompt}, {"role": "user", "content": body}],
                max_tokens=SUMMARY_TOKENS)
            if self.spent is not None:
                await self.spent(completion)
        except ModelError as exc:
            log.warning("summarising compaction failed: %s", exc)
            # Still better than nothing: the user's own words survive in the recent-messages block.
            return previous
        return (completion.text or previous).strip()


class KeeperSources:
    """The project's context sources, read through (others may fill them in later), with the user's earlier
    messages coming from the session's keeper."""

    def __init__(self, shared: ContextSources, keeper_ref: Callable[[], ContextKeeper | None]) -> None:
        self._shared = shared
        self._keeper_ref = keeper_ref

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shared, name)

    @property
    def recent_user_messages(self) -> Callable[[str], list[str]]:
        def recent(session_id: str) -> list[str]:
            keeper = self._keeper_ref()
            return keeper.recent_user_messages(session_id) if keeper is not None else []

        return recent

    @property
    def user_messages_in_context(self) -> Callable[[str], list[str]]:
        def in_tail(session_id: str) -> list[str]:
            keeper = self._keeper_ref()
            return keeper.user_messages_in_tail(session_id) if keeper is not None else []

        return in_tail


__all__ = ["ContextKeeper", "RebuiltContext", "cleared_outputs", "KeeperSources", "tail_bounds", "tail_floor", "tail_start"]
