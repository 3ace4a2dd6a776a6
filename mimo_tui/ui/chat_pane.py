"""The chat pane: the conversation with the agent, its prompt and its status line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Static

from mimo_tui.agent.modes import next_mode
from mimo_tui.services import Services, StoreError
from mimo_tui.start_trace import mark
from mimo_tui.ui.chat.agent_status import AgentStatus, checkpoint_label
from mimo_tui.ui.chat.conversation import RESUME_SHOWN_BLOCKS, Conversation
from mimo_tui.ui.chat.messages import PermissionAnswered, RetryRequested
from mimo_tui.ui.chat.prompt_input import PromptInput
from mimo_tui.ui.chat.slash_commands import run_slash_command
from mimo_tui.ui.chat.user_message import UserMessage
from mimo_tui.ui.messages import ProjectOpened
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.ui.chat.stream_renderer import StreamRenderer
    from mimo_tui.agent.loop import AgentSession, Subscriber
    from mimo_tui.agent.setup import AgentSetupError
    from mimo_tui.project import Project
    from mimo_tui.llm.worker_client import WorkerGateway

__all__ = ["ChatPane", "RESUME_SHOWN_BLOCKS", "load_first_turn_modules"]


def load_first_turn_modules() -> None:
    """The tokenizer and the modules a first turn runs and draws, loaded once (later calls cost nothing)."""
    from mimo_tui.llm.tokens import encoding

    encoding()
    mark("tokenizer loaded")
    import mimo_tui.agent.compose  # noqa: F401
    import mimo_tui.ui.chat.assistant_message  # noqa: F401
    import mimo_tui.ui.chat.error_block  # noqa: F401
    import mimo_tui.ui.chat.tool_call_block  # noqa: F401


class ChatPane(ShowsWorkerFailures, Vertical):
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

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self._stream: StreamRenderer | None = None
        self._queued: list[str] = []  # requests sent before the agent was ready, sent once it is
        # The opening's steps in the order they happened (what a test of the start-up order reads).
        self.opening_steps: list[str] = []

    def compose(self) -> ComposeResult:
        with Conversation(id="conversation"):
            yield Static("Chat with the agent. Type a request, or /help.", id="chat-welcome")
        yield PromptInput(self._slash_arguments, id="prompt")

    def on_mount(self) -> None:
        self.query_one("#prompt", PromptInput).key_typed = self._key_typed

    def _key_typed(self) -> None:
        if self._stream is not None:  # made with the first answer: before it, nothing streams
            self._stream.key_pressed()

    @property
    def stream(self) -> StreamRenderer:
        """Draws the agent's events; made on first use, so the agent's event types load after the first frame."""
        if self._stream is None:
            from mimo_tui.ui.chat.stream_renderer import StreamRenderer

            self._stream = StreamRenderer(self)
        return self._stream

    @property
    def agent(self) -> AgentSession | None:
        return self.services.agent

    @property
    def gateway(self) -> WorkerGateway | None:
        return self.services.gateway

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    def close_services(self) -> None:
        """Close the session and task databases when the chat's host ends."""
        self.services.close_stores()

    # -- opening --------------------------------------------------------------------------------
    async def on_project_opened(self, message: ProjectOpened) -> None:
        # Opening state.db, the history index and the skill files is disk work: off the event loop.
        opened = await self._open_stores(message.project).wait()
        if isinstance(opened, Exception):  # a broken state.db must not take the workbench down
            self.notify(f"the agent cannot start: {opened}", title="Agent", severity="error", timeout=30)
            self._give_back_queued()
            return
        mark("agent stores open")
        self.opening_steps.append("stores open")
        problems = opened
        for problem in problems:
            self.notify(problem, title="Agent", severity="warning", timeout=15)
        # Beside the session's opening (mostly a database write and, on a first run, git subprocesses for the
        # global memory repo), not after it: a question sent a second after start must not wait for the warm-up.
        self._warm_first_turn()
        options = self.services.options
        self.call_later(self.start_session, "last" if options.resume else None, options.model)
        self._warm_up()
        # MCP servers start after a frame is drawn and in the background: the UI never waits for them.
        self.app.call_after_refresh(self._start_mcp_servers)

    @work(thread=True, exit_on_error=False, group="chat-open", name="open the agent's stores")
    def _open_stores(self, project: Project) -> list[str] | Exception:
        try:
            return self.services.open_stores(project)
        except Exception as exc:  # handed back: the pane says the agent cannot start and gives back queued words
            return exc

    @work(thread=True, exit_on_error=False, group="chat-warm-up", name="warm the first turn")
    def _warm_first_turn(self) -> None:
        """Load what the first turn needs before the user sends it: the tokenizer (context assembly counts tokens,
        ~0.25 s of Python) and the modules that run and draw a turn (~60 ms of imports, markdown's among them)."""
        self.opening_steps.append("first turn warm-up started")
        mark("first turn warm-up started")
        load_first_turn_modules()
        mark("first turn warmed")
        self.opening_steps.append("first turn warmed")

    @work(thread=True, exit_on_error=False, group="chat-open", name="open a session")
    def _open_session(self, subscriber: Subscriber, model: str | None, mode: str | None,
                      resume: str | None) -> AgentSession | AgentSetupError:
        from mimo_tui.agent.setup import AgentSetupError

        try:
            return self.services.open_session(subscriber, model=model, mode=mode, resume=resume)
        except AgentSetupError as exc:
            return exc

    def _start_mcp_servers(self) -> None:
        """Start the project's MCP servers once per app; the app stops them when it exits."""
        self.services.start_mcp_servers(self._on_mcp_changed)

    def refresh_mcp_servers(self) -> None:
        """Servers declared, edited or removed since start (config or `.mcp.json` changed while the app runs).

        They start a moment later: importing the MCP SDK holds the interpreter for most of a second, and the
        listing (or the turn) the user asked for should show first.
        """
        try:
            changes = self.services.declare_new_mcp_servers()
        except OSError as exc:
            self.notify(f"MCP: could not read the server declarations again: {exc}", title="MCP", severity="warning")
            return
        if changes is not None and not changes.empty:
            self.notify(f"MCP: {changes.describe()}", title="MCP", timeout=4)
            self.set_timer(0.3, lambda: self.services.start_new_mcp_servers(changes, self._on_mcp_changed))

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
        servers = self.services.mcp
        names = servers.names if servers is not None else []
        return ["/mcp restart", "/mcp stop"] + [f"/mcp {action} {name}" for action in ("restart", "stop") for name in names]

    @work(exclusive=True, group="gateway-warm-up", exit_on_error=False)
    async def _warm_up(self) -> None:
        """The model worker loads litellm now if a configured model needs it, so the first answer does not wait."""
        await self.services.warm_model_worker()

    async def start_session(self, resume: str | None = None, model: str | None = None, mode: str | None = None) -> None:
        """Open a new session, or resume one (id or "last"), and show its transcript."""
        from mimo_tui.agent.setup import AgentSetupError

        services = self.services
        if not services.ready:
            return
        if self.agent is not None and self.agent.is_running:
            self.agent.cancel()
        subscriber = self.stream.subscriber_for_new_session()
        # In a thread: a new session is a database write, a resumed one reads its whole transcript.
        agent = await self._open_session(subscriber, model, mode, resume).wait()
        if isinstance(agent, AgentSetupError):
            self.notify(str(agent), title="Agent", severity="error", timeout=30)
            if model is None:
                self._give_back_queued()
                return
            agent = await self._open_session(subscriber, None, None, resume).wait()
            if isinstance(agent, AgentSetupError):
                self.notify(str(agent), title="Agent", severity="error", timeout=30)
                self._give_back_queued()
                return
        self.stream.forget_blocks()
        services.make_current(agent)
        mark("session open")
        self.opening_steps.append("session open")
        await self.conversation.show_transcript(agent)
        await self._say_missing_credentials(agent)
        self.update_status()
        await self._send_queued()

    async def _say_missing_credentials(self, agent: AgentSession) -> None:
        """A session whose model cannot authenticate says so in the chat at once; the app keeps running."""
        from mimo_tui.ui.chat.error_block import ErrorBlock

        problem = agent.credentials_problem
        if problem is not None:
            await self.conversation.mount(ErrorBlock(problem, "", None, retryable=False))
            self.conversation.scroll_end(animate=False)

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

    def update_status(self) -> None:
        agent = self.agent
        if agent is None:
            return
        note, checkpoint, used = "", "", agent.context_tokens
        keeper = agent.keeper
        if keeper is not None:
            context = keeper.status()
            note = context.warning
            if note:  # past the first threshold the meter counts the request being sent, not the last usage
                used = max(used, context.tokens)
            checkpoint = checkpoint_label(context.writer_running, context.last_checkpoint_at, context.writer_stopped)
        from mimo_tui.agent.subagents import subagents_of  # loaded with the agent, not at start-up

        children = subagents_of(agent)
        running = children.running_count() if children is not None else 0
        for status in self.app.query(AgentStatus):  # gone while the app closes
            label = agent.spec.label + (" (no credentials)" if agent.credentials_problem else "")
            status.show(label, agent.mode, used, agent.settings.context_window,
                        agent.cost_usd, busy=agent.is_running, context_note=note, checkpoint=checkpoint,
                        subagents=running)

    # -- input ----------------------------------------------------------------------------------
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, PromptInput):
            return
        event.stop()
        text = event.value.strip()
        if not text:
            return
        event.input.clear()
        mark("question submitted")
        if text.startswith("/"):
            await self.run_slash_command(text)
            return
        await self.send_request(text)

    async def send_request(self, text: str) -> None:
        """Send `text` to the agent as the user's request (typed, or a project command's expanded body)."""
        if self.agent is None:
            mark("question queued")
            await self._queue_until_ready(text)
            return
        if self.agent.is_running:
            self.notify("the agent is still working; Esc cancels the turn", severity="warning")
            return
        await self.conversation.mount(UserMessage(text))
        self.conversation.scroll_end(animate=False)
        self._run_turn(text)

    async def run_slash_command(self, text: str) -> None:
        await run_slash_command(self, text)

    @work(thread=True, exit_on_error=False, name="project command")
    def run_project_command(self, name: str, argument: str) -> None:
        """`/name args` for the project's `.mimo/commands/name.md`: its body, $ARGUMENTS filled in, is sent as the
        user's request; a name that is no command of the project or the app is said to be unknown."""
        from mimo_tui.skills.user_commands import CommandFileError, find_command

        project = self.services.project
        try:
            command = find_command(project.root, name) if project is not None else None
        except CommandFileError as exc:
            deliver(self, self.notify, str(exc), severity="error", timeout=8)
            return
        if command is None:
            deliver(self, self.notify, f"unknown command {name}; /help lists them", severity="warning")
        else:
            deliver(self, self._send_expanded, command.expand(argument))

    @work(exit_on_error=False, name="project command request")
    async def _send_expanded(self, text: str) -> None:
        await self.send_request(text)

    @work(group="agent-turn", exit_on_error=False)
    async def _run_turn(self, text: str) -> None:
        from mimo_tui.agent.compose import run_user_request

        mark("turn started")
        self.refresh_mcp_servers()
        if self.agent is not None:  # in compose mode one request is a whole compose run
            await run_user_request(self.agent, text, self.services.tasks)

    def run_goal(self, condition: str) -> None:
        """`/goal CONDITION`: shown as the user's request, then worked until the judge says it holds."""
        if self.agent is None or self.agent.is_running:
            self.notify("the agent is busy or not ready; /goal waits for an idle session", severity="warning")
            return
        self.conversation.mount(UserMessage(f"/goal {condition}"))
        self._run_goal(condition)

    @work(group="agent-turn", exit_on_error=False, thread=True)
    def _run_goal(self, condition: str) -> None:
        """The goal's settings are read from config off the event loop; the run itself goes back to the loop."""
        from mimo_tui.agent.setup import AgentSetupError, goal_settings

        agent = self.agent
        if agent is None:
            return
        try:
            settings = goal_settings(self.services.require_project(), agent.spec)
        except AgentSetupError as exc:
            self.app.call_from_thread(self.notify, f"/goal: the judge model cannot be used: {exc}", severity="error", timeout=10)
            return
        self.app.call_from_thread(self._work_goal, agent, settings, condition)

    @work(group="agent-turn", exit_on_error=False)
    async def _work_goal(self, agent: Any, settings: Any, condition: str) -> None:
        from mimo_tui.agent.goal import GoalRunner

        await GoalRunner(agent, settings).run(condition)

    @work(group="agent-turn", exit_on_error=False)
    async def _retry_turn(self) -> None:
        if self.agent is not None:
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
        self.stream.answer_permission(message.answer)
        self.refocus_prompt()

    # -- commands the slash table and the palette call -------------------------------------------
    async def run_mcp_command(self, argument: str) -> None:
        """`/mcp` lists the servers; `/mcp restart NAME` and `/mcp stop NAME` act on one."""
        self.refresh_mcp_servers()
        servers = self.services.mcp
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

        servers = self.services.mcp
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
        if servers is None:
            return
        self.notify(f"MCP server '{name}': {'restarting' if action == 'restart' else 'stopping'}", title="MCP", timeout=3)
        if action == "restart":
            await servers.restart(name)
        else:
            await servers.stop(name)

    def palette_commands(self) -> Iterable[SystemCommand]:
        from mimo_tui.agent.subagents import RUNNING, subagents_of

        yield SystemCommand("Subagents: list", "This session's subagents and their state (/agents)",
                            lambda: self.call_later(self.run_slash_command, "/agents"))
        children = subagents_of(self.agent) if self.agent is not None else None
        for record in children.agents.values() if children is not None else ():
            if record.state == RUNNING:
                yield SystemCommand(f"Subagents: cancel {record.id}", f"Stop subagent {record.id} on {record.task_id}",
                                    lambda i=record.id: self.call_later(self.run_slash_command, f"/agents cancel {i}"))
        servers = self.services.mcp
        if servers is None:
            return
        yield SystemCommand("MCP: servers", "State, tools, errors and stderr of each MCP server",
                            lambda: self.call_later(self.show_mcp_status))
        for status in servers.status():
            if status.state in ("failed", "stopped", "disabled"):
                yield SystemCommand(f"MCP: restart {status.name}", f"Start MCP server {status.name} again ({status.state})",
                                    lambda n=status.name: self._mcp_action("restart", n))

    async def switch_model(self, name: str) -> None:
        from mimo_tui.agent.setup import AgentSetupError, usable_model_spec

        agent = self.agent
        if agent is None:
            self.notify("the agent is not ready yet", title="Model", severity="warning")
            return
        try:
            spec = usable_model_spec(self.services.require_project(), name)
        except AgentSetupError as exc:
            self.notify(str(exc), title="Model", severity="error", timeout=15)
            return
        agent.set_model(spec)
        self.update_status()
        self.notify(f"model: {spec.label}", timeout=4)

    @work(thread=True, exit_on_error=False, group="chat-task", name="add a task")
    def add_task(self, title: str) -> None:
        """`/task TITLE`: a database write and a progress.md commit, in a worker thread."""
        from mimo_tui.tasks import TaskError

        session_id = self.services.session_id
        if session_id is None:
            return
        try:
            task = self.services.tasks.create(session_id, title, by="user")
        except (TaskError, StoreError) as exc:
            deliver(self, self.notify, str(exc), title="Tasks", severity="error", timeout=15)
            return
        deliver(self, self.notify, f"created {task.id}: {task.title}", timeout=4)

    async def show_pane(self, pane_id: str) -> None:
        await self.app.run_action(f"show_pane({pane_id!r})")

    def open_session_picker(self) -> None:
        if self.services.ready:
            self._load_sessions_for_picker()

    @work(thread=True, exit_on_error=False, group="chat-sessions", exclusive=True, name="list sessions")
    def _load_sessions_for_picker(self) -> None:
        """The stored sessions are a database read: listed in a worker, then the picker opens on the app's thread."""
        sessions = self.services.sessions.list(100, with_subagents=False)
        deliver(self, self._show_session_picker, sessions)

    def _show_session_picker(self, sessions: list[Any]) -> None:
        from mimo_tui.ui.chat.session_picker import SessionPicker

        async def chosen(session_id: str | None) -> None:
            if session_id:
                await self.start_session(resume=session_id)

        self.app.push_screen(SessionPicker(sessions), chosen)

    def refocus_prompt(self) -> None:
        """Give the prompt the focus back, unless the user is working in another pane."""
        focused = self.app.focused
        if focused is None or self in focused.ancestors_with_self:
            self.query_one(PromptInput).focus()
