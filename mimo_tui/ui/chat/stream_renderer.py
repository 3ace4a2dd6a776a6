"""Renders an agent's events into the conversation: streamed text coalesced per frame, tool calls, prompts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev

if TYPE_CHECKING:
    from textual.timer import Timer
    from textual.widgets import Static

    from mimo_tui.ui.chat.assistant_message import AssistantMessage
    from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
    from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
    from mimo_tui.ui.chat.chat_view import ChatView

# Streamed tokens are gathered this long and written to the markdown in one piece; when writing
# falls behind, the wait grows (up to MAX_COALESCE_S) so each write carries more text.
COALESCE_S = 0.05
MAX_COALESCE_S = 0.25
# Text arriving far faster than anyone reads (about 5x a fast provider) is drawn 5 times a second, not
# 20: every write re-lays out the screen, and the stream got ~30 % more of the CPU (bench/stream_render.py).
FAST_STREAM_CHARS_PER_S = 2_000
FAST_COALESCE_S = 0.2
# Each drain writes no more text than markdown can draw in about this long (RenderCost's running figure):
# the rest waits BACKLOG_GAP_S, so layout, painting and key presses get the loop between pieces.
FRAME_RENDER_BUDGET_S = 0.006
MIN_CHARS_PER_DRAIN = 200
BACKLOG_GAP_S = 0.004
# While the user types, a key's echo is drawn first: stream text waits until the frame showing the key is
# painted (at most KEY_ECHO_WAIT_S), and is drawn right after an echo, in the quiet before the next key, at most
# every TYPING_FRAME_S (each stream frame lays out and repaints the chat: fewer of them while typing leaves the
# loop free for the keys); when typing stops, after TYPING_S. A key does not queue behind a chunk's markdown
# and layout (bench/workbench_keys.py).
TYPING_S = 0.5
TYPING_FRAME_S = 0.3
KEY_ECHO_WAIT_S = 0.05


class StreamRenderer:
    """Queues the agent's events as they come and draws them in order, a frame's worth of text at a time."""

    def __init__(self, pane: ChatView) -> None:
        self.pane = pane
        self.pending: list[ev.AgentEvent] = []
        self._session_token: object | None = None
        self._drain_scheduled = False
        self._drain_lock = asyncio.Lock()
        self._coalesce_s = COALESCE_S
        self._drain_due = 0.0
        self._drain_timer: Timer | None = None
        self._last_drain = 0.0
        self._key_at = -1.0
        self._echo_pending = False
        self._assistant: AssistantMessage | None = None
        self._tool_blocks: dict[str, ToolCallBlock] = {}
        self._permission: tuple[PermissionPrompt, asyncio.Future[str]] | None = None
        self._subagent_lines: dict[str, Static] = {}  # a running subagent's line, redrawn with its progress

    def subscriber_for_new_session(self) -> Callable[[ev.AgentEvent], None]:
        """A subscriber that goes quiet once another session replaces this one, so a cancelled turn's
        late events never render into the new conversation."""
        token = object()
        self._session_token = token
        self.pending.clear()

        def subscriber(event: ev.AgentEvent) -> None:
            if self._session_token is token:
                self._on_agent_event(event)

        return subscriber

    @property
    def idle(self) -> bool:
        """Nothing queued, no drain on its way, and no answer still streaming."""
        return not self.pending and not self._drain_scheduled and self._assistant is None

    def push(self, event: ev.AgentEvent) -> None:
        """Render `event` as if the agent had sent it (benchmarks feed the renderer this way)."""
        self._on_agent_event(event)

    def forget_blocks(self) -> None:
        """The conversation was redrawn from a transcript: no live answer or tool block remains."""
        self._assistant = None
        self._tool_blocks = {}
        self._subagent_lines = {}

    def answer_permission(self, answer: str) -> None:
        if self._permission is not None:
            _, future = self._permission
            self._permission = None
            if not future.done():
                future.set_result(answer)

    def wait_before_drawing(self, event: ev.AgentEvent) -> float:
        """How long `event` waits for more before the queue is drawn: text while an answer streams is gathered; the
        first words of an answer (what the user waits for) and every other event are drawn at once."""
        streaming = self._assistant is not None and not self._assistant.finished
        return self._coalesce_s if isinstance(event, ev.TextDeltaEvent) and streaming else 0.0

    def key_pressed(self) -> None:
        """The user pressed a key in the prompt: its echo is drawn before any more of the stream."""
        self._key_at = time.perf_counter()
        if not self._echo_pending:
            self._echo_pending = True
            self.pane.call_after_refresh(self._echo_painted)

    @property
    def typing(self) -> bool:
        return time.perf_counter() - self._key_at < TYPING_S

    def _echo_painted(self) -> None:
        """The frame with the key is on the screen: what the stream holds is drawn now, before the next key."""
        self._echo_pending = False
        if self._drain_scheduled and self.pending and time.perf_counter() - self._last_drain >= TYPING_FRAME_S:
            self._schedule_drain(0.0)

    def _schedule_drain(self, delay: float) -> None:
        if self._drain_timer is not None:
            self._drain_timer.stop()
            self._drain_timer = None
        self._drain_scheduled = True
        self._drain_due = time.perf_counter() + delay
        if delay:
            self._drain_timer = self.pane.set_timer(delay, self._drain)
        else:
            self.pane.call_later(self._drain)

    def _on_agent_event(self, event: ev.AgentEvent) -> None:
        """The agent's subscriber: queue the event; a short timer renders the queue in order."""
        self.pending.append(event)
        if not self._drain_scheduled:
            delay = self.wait_before_drawing(event)
            # While the user types, held text waits for the key's frame (the answer's first words never wait).
            self._schedule_drain(TYPING_S if delay and self.typing else delay)

    async def _drain(self) -> None:
        from mimo_tui.ui.chat.answer_segment import RenderCost

        waited = time.perf_counter() - self._key_at
        if self._echo_pending and waited < KEY_ECHO_WAIT_S:
            # `_echo_painted` drains once the key is on the screen; this timer if that frame never comes.
            self._schedule_drain(KEY_ECHO_WAIT_S - waited)
            return
        async with self._drain_lock:
            self._drain_timer = None
            started = time.perf_counter()
            # A timer that fires late means layout and painting kept the loop busy: gather more next time.
            late = max(0.0, started - self._drain_due)
            self._drain_scheduled = False
            events, self.pending = self.pending, []
            text: list[str] = []
            written = 0
            budget = max(MIN_CHARS_PER_DRAIN, int(FRAME_RENDER_BUDGET_S / RenderCost.seconds_per_char))
            arrived = sum(len(event.text) for event in events if isinstance(event, ev.TextDeltaEvent))
            # Text arriving faster than a frame draws: the live segment's markdown must be cheap to redraw.
            hurried = arrived > budget or arrived > FAST_STREAM_CHARS_PER_S * (started - self._last_drain)
            for index, event in enumerate(events):
                if isinstance(event, ev.TextDeltaEvent):
                    room = budget - written
                    if len(event.text) > room:
                        # Over this frame's budget: write what fits, the rest goes first next time.
                        text.append(event.text[:room])
                        written += room
                        rest = [ev.TextDeltaEvent(event.turn, event.text[room:]), *events[index + 1:]]
                        self.pending[:0] = rest
                        break
                    text.append(event.text)
                    written += len(event.text)
                    continue
                if text:
                    await self._write_text("".join(text), hurried)
                    text = []
                await self._show_event(event)
            if text:
                # More of this text is queued for the next piece: lay the screen out once, after the last one.
                await self._write_text("".join(text), hurried, show=not self.pending)
            if self.pending and not self._drain_scheduled:
                self._schedule_drain(BACKLOG_GAP_S)
            busy = (time.perf_counter() - started) + late
            window = max(COALESCE_S, 3 * busy)
            if written > FAST_STREAM_CHARS_PER_S * (started - self._last_drain):
                window = max(window, FAST_COALESCE_S)
            self._coalesce_s = min(MAX_COALESCE_S, window)
            self._last_drain = started

    async def _write_text(self, text: str, hurried: bool = False, show: bool = True) -> None:
        from mimo_tui.ui.chat.assistant_message import AssistantMessage

        if self._assistant is None or self._assistant.finished:
            self._assistant = AssistantMessage()
            await self.pane.conversation.mount(self._assistant)
        await self._assistant.append(text, hurried, show)

    async def _close_assistant(self, interrupted: bool = False) -> None:
        if self._assistant is not None:
            await self._assistant.finish(interrupted)
            self._assistant = None

    async def _show_event(self, event: ev.AgentEvent) -> None:
        # Widgets that pull in markdown and syntax highlighting load with the first reply, not the first frame.
        from mimo_tui.ui.chat.error_block import ErrorBlock
        from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
        from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

        pane = self.pane
        conversation = pane.conversation
        if isinstance(event, ev.TurnStarted):
            pane.update_status()
        elif isinstance(event, ev.AssistantMessageDone):
            await self._close_assistant()
        elif isinstance(event, ev.ToolCallStarted):
            await self._close_assistant()
            block = ToolCallBlock(event.call_id, event.tool, event.arguments, event.raw_arguments)
            self._tool_blocks[event.call_id] = block
            await conversation.mount(block)
        elif isinstance(event, ev.ToolCallFinished):
            block = self._tool_blocks.get(event.call_id)
            if block is not None:
                block.finish(event.content, event.status, event.duration_s)
        elif isinstance(event, ev.PermissionRequest):
            agent = pane.agent
            tool = agent.find_tool(event.tool) if agent is not None else None
            server = getattr(tool, "server", None) if event.tool.startswith("mcp__") else None
            prompt = PermissionPrompt(event.tool, event.subject, event.preview, server, getattr(tool, "tool", None) if server else None)
            self._permission = (prompt, event.answer)
            await conversation.mount(prompt)
        elif isinstance(event, (ev.UsageReported, ev.HelperSpent, ev.ContextStatus, ev.CheckpointStarted)):
            pane.update_status()
        elif isinstance(event, ev.CheckpointFinished):
            pane.update_status()
            if event.status != "done" or event.refused:
                refused = f"; refused: {'; '.join(event.refused)}" if event.refused else ""
                pane.notify(f"{event.message}{refused}", title="checkpoint", severity="warning", timeout=8)
        elif isinstance(event, ev.RebuildWaiting):
            from textual.widgets import Static

            await self._close_assistant()
            await conversation.mount(Static(f"rebuilding the context: waiting for the checkpoint writer (at most "
                                            f"{event.timeout_s:.0f} s)…", markup=False, classes="work-line"))
        elif isinstance(event, ev.ContextRebuilt):
            from mimo_tui.ui.chat.context_divider import ContextDivider

            await self._close_assistant()
            await conversation.mount(ContextDivider(event.from_checkpoint, event.tokens_before, event.tokens_after,
                                                    event.injected))
            pane.update_status()
        elif isinstance(event, ev.ModelFailed):
            await self._close_assistant(interrupted=bool(event.partial_text))
            await conversation.mount(ErrorBlock(event.message, event.provider_message, event.status))
        elif isinstance(event, wev.SubagentProgress) and event.agent_id in self._subagent_lines:
            self._subagent_lines[event.agent_id].update(wev.describe(event))
        elif isinstance(event, wev.WorkEvent):  # /goal, compose and subagent progress: one line each
            from textual.widgets import Static

            await self._close_assistant()
            line = Static(wev.describe(event), markup=False, classes="work-line")
            await conversation.mount(line)
            if isinstance(event, wev.SubagentChanged):
                if event.state == "running":
                    self._subagent_lines[event.agent_id] = line
                else:
                    self._subagent_lines.pop(event.agent_id, None)
                pane.update_status()
        elif isinstance(event, ev.ModeChanged):
            pane.update_status()
            pane.notify(f"mode: {event.mode}", timeout=2)
        elif isinstance(event, ev.TurnEnded):
            await self._close_assistant(interrupted=event.status == ev.TURN_CANCELLED)
            if self._permission is not None:
                prompt, _ = self._permission
                prompt.action_answer("reject")
                self._permission = None
            pane.update_status()
            pane.refocus_prompt()
