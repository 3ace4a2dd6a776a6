"""The chat pane: the conversation with the agent, its prompt and its status line."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mimo_tui.agent import events as ev
from mimo_tui.agent.modes import MODES, next_mode
from mimo_tui.ui.chat.agent_status import AgentStatus
from mimo_tui.ui.chat.conversation import Conversation
from mimo_tui.ui.chat.messages import PermissionAnswered, RetryRequested, SessionSwitched
from mimo_tui.ui.chat.prompt_input import SLASH_COMMANDS, PromptInput
from mimo_tui.ui.chat.user_message import UserMessage
from mimo_tui.ui.messages import ProjectOpened

if TYPE_CHECKING:
    from mimo_tui.ui.chat.assistant_message import AssistantMessage
    from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
    from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

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
# A resumed long session shows its tail; every block is a widget, and mounting thousands stalls the UI.
RESUME_SHOWN_BLOCKS = 200

class ChatPane(Vertical):
    """Sends the user's requests to the agent and renders its events as they come."""

    DEFAULT_CLASSES = "project-pane"
    BINDINGS = [
        Binding("escape", "cancel_turn", "Cancel turn", id="chat.cancel"),
        Binding("tab", "toggle_mode", "Mode", id="chat.mode", priority=False),
    ]
    DEFAULT_CSS = """
    ChatPane { height: 1fr; }
    ChatPane #chat-welcome { color: $text-muted; padding: 1 1 0 1; }
    ChatPane #prompt { dock: none; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services: Any = None
        self.agent: Any = None
        self.gateway: Any = None
        self._event_queue: list[ev.AgentEvent] = []
        self._session_token: object | None = None
        self._drain_scheduled = False
        self._drain_lock = asyncio.Lock()
        self._coalesce_s = COALESCE_S
        self._drain_due = 0.0
        self._last_drain = 0.0
        self._assistant: AssistantMessage | None = None
        self._tool_blocks: dict[str, ToolCallBlock] = {}
        self._permission: tuple[PermissionPrompt, asyncio.Future[str]] | None = None
        self._mcp_unsubscribe: Any = None
        self._queued: list[str] = []  # requests sent before the agent was ready, sent once it is

    def compose(self) -> ComposeResult:
        with Conversation(id="conversation"):
            yield Static("Chat with the agent. Type a request, or /help.", id="chat-welcome")
        yield PromptInput(self._slash_arguments, id="prompt")

    def close_services(self) -> None:
        """Close the session and task databases when the app ends."""
        if self.agent is not None and self.agent.is_running:
            self.agent.cancel()
        if self.services is not None:
            self.services.close()
            self.services = None

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    # -- opening --------------------------------------------------------------------------------
    async def on_project_opened(self, message: ProjectOpened) -> None:
        from mimo_tui.agent.setup import AgentServices
        from mimo_tui.llm.worker_client import ModelWorker, WorkerGateway

        project = message.project
        try:
            # Opening state.db, the history index and the skill files is disk work: off the event loop.
            self.services = await asyncio.to_thread(AgentServices.open, project)
        except Exception as exc:  # a broken state.db must not take the workbench down
            self.notify(f"the agent cannot start: {exc}", title="Agent", severity="error", timeout=30)
            self._give_back_queued()
            return
        for problem in self.services.problems:
            self.notify(problem, title="Agent", severity="warning", timeout=15)
        llm = project.config.table("llm")
        # Every model call runs in the app's model worker process: litellm never loads in the UI process.
        worker = getattr(self.app, "model_worker", None) or ModelWorker()
        self.gateway = WorkerGateway(
            worker, max_concurrency=int(llm.get("max_concurrency", 8)), max_retries=int(llm.get("max_retries", 4)),
            timeout_s=float(llm.get("timeout_s", 120.0)),
        )
        resume = "last" if getattr(self.app, "resume", False) else None
        self.call_later(self.start_session, resume, getattr(self.app, "model_override", None))
        self._warm_up()
        # MCP servers start after a frame is drawn and in the background: the UI never waits for them.
        self.app.call_after_refresh(self._start_mcp_servers)

    def _start_mcp_servers(self) -> None:
        """Start the project's MCP servers once per app; the app stops them when it exits."""
        servers = self.services.mcp if self.services is not None else None
        if servers is None or not servers.names or self._mcp_unsubscribe is not None:
            return
        self._mcp_unsubscribe = servers.subscribe(self._on_mcp_changed)
        register = getattr(self.app, "register_mcp_servers", None)
        if register is not None:
            register(servers, self._stop_mcp_notices)
        servers.start_all()

    def _stop_mcp_notices(self) -> None:
        if self._mcp_unsubscribe is not None:
            self._mcp_unsubscribe()

    def _on_mcp_changed(self, event: Any) -> None:
        """A server became ready, failed or stopped: say so in a notification."""
        status = event.status
        if status.state == "ready":
            count = f"{status.tool_count} tool{'s' if status.tool_count != 1 else ''}"
            self.notify(f"MCP server '{status.name}' is ready: {count}", title="MCP", timeout=4)
            for notice in status.notices:
                self.notify(notice, title="MCP", severity="warning", timeout=10)
        elif status.state == "failed":
            tail = status.stderr_tail.strip().splitlines()[-3:]
            detail = ("\n" + "\n".join(tail)) if tail else ""
            self.notify(f"{status.error or status.name + ' failed'}{detail}\n/mcp shows details; /mcp restart {status.name}",
                        title="MCP server failed", severity="error", timeout=20)
        elif status.state == "stopped":
            self.notify(f"MCP server '{status.name}' stopped", title="MCP", timeout=4)

    def _slash_arguments(self) -> list[str]:
        """Completions after a command and a space: the MCP actions with each server's name."""
        servers = self.services.mcp if self.services is not None else None
        names = servers.names if servers is not None else []
        return ["/mcp restart", "/mcp stop"] + [f"/mcp {action} {name}" for action in ("restart", "stop") for name in names]

    @work(exclusive=True, group="gateway-warm-up", exit_on_error=False)
    async def _warm_up(self) -> None:
        await self.gateway.warm_up()

    async def start_session(self, resume: str | None = None, model: str | None = None, mode: str | None = None) -> None:
        """Open a new session, or resume one (id or "last"), and show its transcript."""
        from mimo_tui.agent.setup import AgentSetupError, open_agent_session

        if self.services is None:
            return
        if self.agent is not None and self.agent.is_running:
            self.agent.cancel()
        subscriber = self._subscriber_for_new_session()
        # In a thread: a new session is a database write, a resumed one reads its whole transcript.
        opening = functools.partial(open_agent_session, self.services, subscriber, self.gateway)
        try:
            self.agent = await asyncio.to_thread(opening, model=model, mode=mode, resume=resume)
        except AgentSetupError as exc:
            self.notify(str(exc), title="Agent", severity="error", timeout=30)
            if model is None:
                self._give_back_queued()
                return
            self.agent = await asyncio.to_thread(opening, resume=resume)
        await self._show_transcript()
        self._update_status()
        for pane in self.app.query(".project-pane"):
            pane.post_message(SessionSwitched(self.services, self.agent.session_id))
        await self._send_queued()

    async def _queue_until_ready(self, text: str) -> None:
        """Keep a request typed before the agent is ready: shown now, sent when the session opens."""
        self._queued.append(text)
        if not self.query("#chat-starting"):
            await self.conversation.mount(Static("starting… your request is sent when the agent is ready",
                                                 id="chat-starting", classes="empty-state"))
        await self.conversation.mount(UserMessage(text))
        self.conversation.scroll_end(animate=False)

    def _give_back_queued(self) -> None:
        """The agent could not start: the queued words go back into the prompt rather than being lost."""
        if self._queued:
            self.query_one("#prompt", Input).value = "\n".join(self._queued)
            self._queued.clear()

    async def _send_queued(self) -> None:
        if not self._queued or self.agent is None:
            return
        text = "\n\n".join(self._queued)
        self._queued.clear()
        await self.conversation.mount(UserMessage(text))
        self.conversation.scroll_end(animate=False)
        self._run_turn(text)

    def _subscriber_for_new_session(self) -> Callable[[ev.AgentEvent], None]:
        """A subscriber that goes quiet once another session replaces this one, so a cancelled turn's
        late events never render into the new conversation."""
        token = object()
        self._session_token = token
        self._event_queue.clear()

        def subscriber(event: ev.AgentEvent) -> None:
            if self._session_token is token:
                self._on_agent_event(event)

        return subscriber

    def current_session(self) -> tuple[Any, str] | None:
        """The services and session id the chat runs on, for panes that open later."""
        if self.services is None or self.agent is None:
            return None
        return self.services, self.agent.session_id

    async def _show_transcript(self) -> None:
        from mimo_tui.ui.chat.assistant_message import AssistantMessage
        from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

        conversation = self.conversation
        await conversation.remove_children()
        self._assistant = None
        self._tool_blocks = {}
        widgets: list[Any] = []
        blocks: dict[str, ToolCallBlock] = {}
        for message in self.agent.transcript:
            if message.role == "user":
                widgets.append(UserMessage(message.content))
            elif message.role == "assistant":
                if message.content:
                    block = AssistantMessage(message.content)
                    if message.status != "complete":
                        block.add_class("interrupted")
                    widgets.append(block)
                for call in message.tool_calls:
                    function = call.get("function", {})
                    raw = function.get("arguments", "")
                    try:
                        arguments = json.loads(raw) if raw else {}
                    except json.JSONDecodeError:
                        arguments = {}
                    tool_block = ToolCallBlock(call.get("id", ""), function.get("name", ""), arguments if isinstance(arguments, dict) else {}, raw)
                    blocks[tool_block.call_id] = tool_block
                    widgets.append(tool_block)
            elif message.role == "tool" and message.tool_call_id in blocks:
                blocks[message.tool_call_id].finish(message.content, "error" if message.is_error else "ok", message.duration_s or 0.0)
        if not widgets:
            label = self.agent.spec.label
            widgets.append(Static(f"New session on {label}. Type a request, or /help.", id="chat-welcome"))
        if len(widgets) > RESUME_SHOWN_BLOCKS:
            hidden = len(widgets) - RESUME_SHOWN_BLOCKS
            widgets = [Static(f"{hidden} earlier blocks not shown here: `mimo sessions --show {self.agent.session_id}` "
                              "prints the whole transcript.", classes="empty-state"), *widgets[-RESUME_SHOWN_BLOCKS:]]
        await conversation.mount_all(widgets)
        conversation.scroll_end(animate=False)

    def _update_status(self) -> None:
        if self.agent is None:
            return
        for status in self.app.query(AgentStatus):  # gone while the app closes
            status.show(
                self.agent.spec.label, self.agent.mode, self.agent.context_tokens, self.agent.settings.context_window,
                self.agent.cost_usd, busy=self.agent.is_running,
            )

    # -- input ----------------------------------------------------------------------------------
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, PromptInput):
            return
        event.stop()
        text = event.value.strip()
        if not text:
            return
        event.input.clear()
        if text.startswith("/"):
            await self.run_slash_command(text)
            return
        if self.agent is None:
            await self._queue_until_ready(text)
            return
        if self.agent.is_running:
            self.notify("the agent is still working; Esc cancels the turn", severity="warning")
            return
        await self.conversation.mount(UserMessage(text))
        self.conversation.scroll_end(animate=False)
        self._run_turn(text)

    @work(group="agent-turn", exit_on_error=False)
    async def _run_turn(self, text: str) -> None:
        await self.agent.run_turn(text)

    @work(group="agent-turn", exit_on_error=False)
    async def _retry_turn(self) -> None:
        await self.agent.retry()

    def action_cancel_turn(self) -> None:
        if self.agent is not None and self.agent.cancel():
            self.notify("turn cancelled", timeout=3)

    def action_toggle_mode(self) -> None:
        if self.agent is not None:
            self.agent.set_mode(next_mode(self.agent.mode))

    def on_retry_requested(self, message: RetryRequested) -> None:
        message.stop()
        if self.agent is not None and not self.agent.is_running:
            self._retry_turn()

    def on_permission_answered(self, message: PermissionAnswered) -> None:
        message.stop()
        if self._permission is not None:
            _, future = self._permission
            self._permission = None
            if not future.done():
                future.set_result(message.answer)
        self._refocus_prompt()

    async def run_slash_command(self, text: str) -> None:
        from mimo_tui.ui.chat.assistant_message import AssistantMessage

        name, _, argument = text.partition(" ")
        argument = argument.strip()
        if name == "/help":
            lines = "\n".join(f"- `{command}` — {help_text}" for command, help_text in SLASH_COMMANDS.items())
            await self.conversation.mount(AssistantMessage(f"**Commands**\n\n{lines}\n\nEsc cancels a running turn; Tab switches build/plan."))
        elif name == "/mode":
            if self.agent is not None:
                mode = argument or next_mode(self.agent.mode)
                if mode not in MODES:
                    self.notify(f"unknown mode {mode!r}; modes: {', '.join(MODES)}", severity="error")
                else:
                    self.agent.set_mode(mode)
        elif name == "/model":
            if not argument:
                self.notify(f"model: {self.agent.spec.label if self.agent else '?'}; /model NAME switches", timeout=6)
            else:
                await self._switch_model(argument)
        elif name == "/new":
            await self.start_session(model=getattr(self.app, "model_override", None))
        elif name == "/sessions":
            self.open_session_picker()
        elif name == "/memory":
            await self._show_pane("memory")
        elif name == "/task":
            if argument and self.services is not None and self.agent is not None:
                task = await asyncio.to_thread(self.services.tasks.create, self.agent.session_id, argument, by="user")
                self.notify(f"created {task.id}: {task.title}", timeout=4)
            else:
                await self._show_pane("tasks")
        elif name == "/mcp":
            await self.run_mcp_command(argument)
        else:
            self.notify(f"unknown command {name}; /help lists them", severity="warning")
        self.conversation.scroll_end(animate=False)

    async def run_mcp_command(self, argument: str) -> None:
        """`/mcp` lists the servers; `/mcp restart NAME` and `/mcp stop NAME` act on one."""
        servers = self.services.mcp if self.services is not None else None
        action, _, target = argument.partition(" ")
        target = target.strip()
        if action in ("restart", "stop"):
            if servers is None or target not in servers.names:
                known = ", ".join(servers.names) if servers is not None and servers.names else "none declared"
                self.notify(f"/mcp {action} NAME: no MCP server {target!r} (servers: {known})", severity="warning")
                return
            self._mcp_action(action, target)
            return
        if action:
            self.notify(f"unknown /mcp action {action!r}; use /mcp, /mcp restart NAME or /mcp stop NAME", severity="warning")
            return
        await self.show_mcp_status()

    async def show_mcp_status(self) -> None:
        """Mount a block listing every MCP server with its state, tools, errors and stderr tail."""
        from mimo_tui.agent.mcp import format_status
        from mimo_tui.ui.chat.mcp_status import McpStatusBlock

        servers = self.services.mcp if self.services is not None else None
        if servers is None or (not servers.names and not servers.problems):
            text = "MCP servers: none declared. Add [mcp.servers.NAME] to .mimo/config.toml or an .mcp.json in the project root."
            await self.conversation.mount(McpStatusBlock(text, {}))
        else:
            statuses = servers.status()
            parts = ["MCP servers"] + [format_status(status) for status in statuses] + [str(p) for p in servers.problems]
            await self.conversation.mount(McpStatusBlock("\n\n".join(parts), {s.name: s.state for s in statuses}))
        self.conversation.scroll_end(animate=False)

    @work(group="mcp-action", exit_on_error=False)
    async def _mcp_action(self, action: str, name: str) -> None:
        servers = self.services.mcp
        self.notify(f"MCP server '{name}': {'restarting' if action == 'restart' else 'stopping'}", title="MCP", timeout=3)
        if action == "restart":
            await servers.restart(name)
        else:
            await servers.stop(name)

    def palette_commands(self) -> Iterable[SystemCommand]:
        servers = self.services.mcp if self.services is not None else None
        if servers is None:
            return
        yield SystemCommand("MCP: servers", "State, tools, errors and stderr of each MCP server",
                            lambda: self.call_later(self.show_mcp_status))
        for status in servers.status():
            if status.state in ("failed", "stopped", "disabled"):
                yield SystemCommand(f"MCP: restart {status.name}", f"Start MCP server {status.name} again ({status.state})",
                                    lambda n=status.name: self._mcp_action("restart", n))

    async def _switch_model(self, name: str) -> None:
        from mimo_tui.agent.setup import AgentSetupError, model_spec

        try:
            spec = model_spec(self.services.project, name)
        except AgentSetupError as exc:
            self.notify(str(exc), title="Model", severity="error", timeout=15)
            return
        self.agent.set_model(spec)
        self._update_status()
        self.notify(f"model: {spec.label}", timeout=4)

    async def _show_pane(self, pane_id: str) -> None:
        await self.app.run_action(f"show_pane({pane_id!r})")

    def open_session_picker(self) -> None:
        from mimo_tui.ui.chat.session_picker import SessionPicker

        if self.services is None:
            return

        async def chosen(session_id: str | None) -> None:
            if session_id:
                await self.start_session(resume=session_id)

        self.app.push_screen(SessionPicker(self.services.sessions.list(100)), chosen)

    # -- agent events ---------------------------------------------------------------------------
    def _on_agent_event(self, event: ev.AgentEvent) -> None:
        """The agent's subscriber: queue the event; a short timer renders the queue in order."""
        self._event_queue.append(event)
        if not self._drain_scheduled:
            self._drain_scheduled = True
            delay = self._coalesce_s if isinstance(event, ev.TextDeltaEvent) else 0.0
            self._drain_due = time.perf_counter() + delay
            self.set_timer(delay, self._drain) if delay else self.call_later(self._drain)

    async def _drain(self) -> None:
        from mimo_tui.ui.chat.answer_segment import RenderCost

        async with self._drain_lock:
            started = time.perf_counter()
            # A timer that fires late means layout and painting kept the loop busy: gather more next time.
            late = max(0.0, started - self._drain_due)
            self._drain_scheduled = False
            events, self._event_queue = self._event_queue, []
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
                        self._event_queue[:0] = rest
                        break
                    text.append(event.text)
                    written += len(event.text)
                    continue
                if text:
                    await self._write_text("".join(text), hurried)
                    text = []
                await self._show_event(event)
            if text:
                await self._write_text("".join(text), hurried)
            if self._event_queue and not self._drain_scheduled:
                self._drain_scheduled = True
                self._drain_due = time.perf_counter() + BACKLOG_GAP_S
                self.set_timer(BACKLOG_GAP_S, self._drain)
            busy = (time.perf_counter() - started) + late
            window = max(COALESCE_S, 3 * busy)
            if written > FAST_STREAM_CHARS_PER_S * (started - self._last_drain):
                window = max(window, FAST_COALESCE_S)
            self._coalesce_s = min(MAX_COALESCE_S, window)
            self._last_drain = started

    async def _write_text(self, text: str, hurried: bool = False) -> None:
        from mimo_tui.ui.chat.assistant_message import AssistantMessage

        if self._assistant is None or self._assistant.finished:
            self._assistant = AssistantMessage()
            await self.conversation.mount(self._assistant)
        await self._assistant.append(text, hurried)

    async def _close_assistant(self, interrupted: bool = False) -> None:
        if self._assistant is not None:
            await self._assistant.finish(interrupted)
            self._assistant = None

    async def _show_event(self, event: ev.AgentEvent) -> None:
        # Widgets that pull in markdown and syntax highlighting load with the first reply, not the first frame.
        from mimo_tui.ui.chat.error_block import ErrorBlock
        from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
        from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

        conversation = self.conversation
        if isinstance(event, ev.TurnStarted):
            self._update_status()
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
            tool = self.agent.find_tool(event.tool) if self.agent is not None else None
            server = getattr(tool, "server", None) if event.tool.startswith("mcp__") else None
            prompt = PermissionPrompt(event.tool, event.subject, event.preview, server, getattr(tool, "tool", None) if server else None)
            self._permission = (prompt, event.answer)
            await conversation.mount(prompt)
        elif isinstance(event, ev.UsageReported):
            self._update_status()
        elif isinstance(event, ev.ModelFailed):
            await self._close_assistant(interrupted=bool(event.partial_text))
            await conversation.mount(ErrorBlock(event.message, event.provider_message, event.status))
        elif isinstance(event, ev.ModeChanged):
            self._update_status()
            self.notify(f"mode: {event.mode}", timeout=2)
        elif isinstance(event, ev.TurnEnded):
            await self._close_assistant(interrupted=event.status == ev.TURN_CANCELLED)
            if self._permission is not None:
                prompt, _ = self._permission
                prompt.action_answer("reject")
                self._permission = None
            self._update_status()
            self._refocus_prompt()

    def _refocus_prompt(self) -> None:
        """Give the prompt the focus back, unless the user is working in another pane."""
        focused = self.app.focused
        if focused is None or self in focused.ancestors_with_self:
            self.query_one(PromptInput).focus()
