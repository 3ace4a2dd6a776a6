"""The agent loop: stream a reply, run the tools it asks for (with permissions and modes), repeat until done."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from mimo_tui.agent import events as ev
from mimo_tui.agent.modes import BUILD, MODES, READ_ONLY_MODES, plan_mode_refusal
from mimo_tui.agent.off_loop import finish_in_thread
from mimo_tui.agent.file_policy import PathRefused, check_read, check_write, display_path
from mimo_tui.agent.permissions import ALLOW, ASK, DENY, PermissionPolicy, PermissionRule, exact_pattern
from mimo_tui.agent.prompt import mode_reminder
from mimo_tui.agent.tools.arguments import ToolInputError
from mimo_tui.agent.tools.base import Tool, ToolContext, ToolResult
from mimo_tui.agent.tools.registry import is_read_only_call
from mimo_tui.llm import ModelError, ModelSpec, StreamDone, TextDelta
from mimo_tui.llm.models import missing_credentials
from mimo_tui.sessions import COMPLETE, FAILED, INTERRUPTED, Session, SessionStore, StoredMessage, UsageRow
from mimo_tui.store import StoreError

log = logging.getLogger(__name__)

Subscriber = Callable[[ev.AgentEvent], None]
ContextBlock = Callable[[str], str]
ToolSource = Callable[[], Iterable[Tool]]
PATH_TOOLS = ("read_file", "write_file", "edit_file", "list_dir", "grep")
WRITE_TOOLS = ("write_file", "edit_file")
PARTIAL_SAVE_INTERVAL_S = 1.0
ONCE, ALWAYS, REJECT = "once", "always", "reject"


@dataclass
class AgentSettings:
    """Knobs of one agent session."""

    context_window: int = 128_000
    max_steps: int = 40
    temperature: float | None = None
    write_scope: tuple[str, ...] | None = None  # a subagent's sandbox: project paths (globs) it may write; None: any


def sandbox_refusal(scope: tuple[str, ...] | None, tool: str, subject: str) -> str | None:
    """Why a subagent's write is outside the sandbox it was started with, or None."""
    if scope is None or tool not in WRITE_TOOLS or any(fnmatch.fnmatchcase(subject, glob) for glob in scope):
        return None
    allowed = ", ".join(scope) if scope else "nothing (this subagent is read-only)"
    return (f"{subject} is outside this subagent's write sandbox; it may write only: {allowed}. "
            "Report what should change in your answer instead")


def messages_for_model(stored: list[StoredMessage]) -> list[dict[str, Any]]:
    """The stored transcript as chat messages: failed replies dropped, unanswered tool calls given a result."""
    chat: list[dict[str, Any]] = []
    answered = {m.tool_call_id for m in stored if m.role == "tool"}
    for message in stored:
        if message.status == FAILED and message.role == "assistant":
            continue
        if message.role == "assistant" and not message.content and not message.tool_calls:
            continue
        chat.append(message.as_chat())
        for call in message.tool_calls if message.role == "assistant" else []:
            if call.get("id") not in answered:
                chat.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": "interrupted: the tool did not run"})
    return chat


class AgentSession:
    """One conversation: the transcript, the model, the tools and the rules that govern them."""

    def __init__(
        self,
        *,
        gateway: Any,
        spec: ModelSpec,
        sessions: SessionStore,
        session: Session,
        tools: dict[str, Tool],
        policy: PermissionPolicy,
        context: ToolContext,
        system_prompt: str,
        subscriber: Subscriber,
        settings: AgentSettings | None = None,
        context_block: ContextBlock | None = None,
        remember_rule: Callable[[PermissionRule], None] | None = None,
        tool_source: ToolSource | None = None,
        keeper: Any = None,
        spend_to: Callable[[Any], Awaitable[None]] | None = None,
    ) -> None:
        self.gateway = gateway
        self.spec = spec
        self.sessions = sessions
        self.session = session
        self.tools = tools
        self.policy = policy
        self.context = context
        self.context.services["permissions"] = policy  # the bash preview shows how the rules judge each part
        self.system_prompt = system_prompt
        self.subscriber = subscriber
        self.settings = settings or AgentSettings()
        self.context_block = context_block
        self.remember_rule = remember_rule
        self.tool_source = tool_source
        self.keeper = keeper  # ContextKeeper: checkpoints at thresholds, rebuilds the context when it is full
        # A subagent's calls are counted in its parent's spend (the session the user sees), not stored twice.
        self.spend_to = spend_to
        self.rebuilt_on_open: Any = None  # RebuiltContext of a resumed session whose context was rebuilt
        self._mid_turn = False
        self.offered: dict[str, Tool] = dict(tools)
        self.mode = session.mode if session.mode in MODES else BUILD
        self.context.mode = self.mode
        self.transcript: list[StoredMessage] = sessions.messages(session.id)
        self.turn = sessions.last_turn(session.id)
        self.context_tokens = sessions.last_prompt_tokens(session.id)
        self.cost_usd = sessions.usage_totals(session.id)[2]
        self._running: asyncio.Task[str] | None = None
        self._cancel_requested = False
        self._cancels_before_turn = 0
        self._run_started = 0.0
        # Every session-store write goes through this one thread, in order: in the TUI the agent runs on the
        # app's event loop, and a sqlite write there (fsync) would stall key handling.
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-writes")
        self._writes_closed = False

    @property
    def session_id(self) -> str:
        return self.session.id

    @property
    def is_running(self) -> bool:
        return self._running is not None and not self._running.done()

    @property
    def credentials_problem(self) -> str | None:
        """What the model lacks to authenticate (read from the environment now), or None when it can be called."""
        return missing_credentials(self.spec)

    def available_tools(self) -> dict[str, Tool]:
        """The built-in tools and, after them, those of the tool source (MCP servers that are ready now)."""
        found = dict(self.tools)
        if self.tool_source is not None:
            try:
                extra = list(self.tool_source())
            except Exception:  # a broken source must not stop the turn; the built-in tools still work
                log.exception("tool source failed")
                extra = []
            for tool in extra:
                found.setdefault(tool.spec.name, tool)
        return found

    def find_tool(self, name: str) -> Tool | None:
        """A tool by name: one offered with the last reply, else one available now."""
        return self.offered.get(name) or self.available_tools().get(name)

    def emit(self, event: ev.AgentEvent) -> None:
        try:
            self.subscriber(event)
        except Exception:  # a broken view must not break the turn
            log.exception("agent subscriber failed on %s", type(event).__name__)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; modes: {', '.join(MODES)}")
        self.mode = mode
        self.context.mode = mode
        self._write_soon(lambda: self.sessions.update(self.session_id, mode=mode))
        self.emit(ev.ModeChanged(mode))

    def set_model(self, spec: ModelSpec) -> None:
        self.spec = spec
        self._write_soon(lambda: self.sessions.update(self.session_id, model=spec.name))

    def _write_soon(self, work: Callable[[], object]) -> None:
        """A write asked for by a synchronous caller: queued on the writer thread when an event loop runs here."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop (a plain CLI call): nothing to block, write now
            work()
            return
        if self._writes_closed:  # after close(): nothing is queued behind, so in order
            work()
            return
        self._writer.submit(work)

    def flush_writes(self) -> None:
        """Wait until every queued session write is in the database."""
        self._writer.submit(lambda: None).result()

    def close(self) -> None:
        """Write everything queued (in order), then end the writer thread; call it before the stores close."""
        self._writes_closed = True
        self._writer.shutdown(wait=True)

    async def _write(self, work: Callable[[], Any]) -> Any:
        return await finish_in_thread(work, self._writer)

    # -- turns ----------------------------------------------------------------------------------
    async def run_turn(self, user_text: str) -> str:
        """Store the user's message and run the turn to its end; returns how it ended."""
        self.turn += 1
        if not self.session.title:
            title = " ".join(user_text.split())[:60]
            await self._write(lambda: self.sessions.update(self.session_id, title=title))
            self.session = Session(**{**self.session.__dict__, "title": title})
        turn = self.turn
        self._record(await self._write(lambda: self.sessions.add_message(self.session_id, turn, "user", user_text)))
        self.emit(ev.TurnStarted(self.session_id, self.turn, user_text))
        return await self._guarded(self._steps())

    async def retry(self) -> str:
        """Ask the model again for the current turn (after a provider error)."""
        self.emit(ev.TurnStarted(self.session_id, self.turn, ""))
        return await self._guarded(self._steps())

    def cancel(self) -> bool:
        """Cancel the running turn; the partial reply is kept, marked interrupted."""
        if self.is_running and self._running is not None:
            # Python 3.11's wait_for can swallow a cancel that races a finished chunk; the flag makes it stick.
            self._cancel_requested = True
            self._running.cancel()
            return True
        return False

    def _check_cancelled(self) -> None:
        task = asyncio.current_task()
        # A cancel that arrived while a write was finishing in a thread is still pending on the task.
        if self._cancel_requested or (task is not None and task.cancelling() > self._cancels_before_turn):
            raise asyncio.CancelledError

    async def _guarded(self, steps: Any) -> str:
        task = asyncio.current_task()
        self._running = task  # type: ignore[assignment]
        self._cancels_before_turn = task.cancelling() if task is not None else 0
        self._cancel_requested = False
        try:
            status, text = await steps
        except asyncio.CancelledError:
            status, text = ev.TURN_CANCELLED, ""
        finally:
            # This turn's cancel ends here, whether it surfaced or stayed pending after a finished write,
            # so the next turn run by the same task starts clean.
            while task is not None and task.cancelling() > self._cancels_before_turn:
                task.uncancel()
            self._running = None
            self._cancel_requested = False
        self.emit(ev.TurnEnded(self.turn, status, text))
        return status

    async def _steps(self) -> tuple[str, str]:
        last_text = ""
        for step in range(self.settings.max_steps):
            self._mid_turn = step > 0
            outcome = await self._one_reply()
            if outcome is None:
                return ev.TURN_FAILED, ""
            text, calls = outcome
            last_text = text or last_text
            if not calls:
                return ev.TURN_DONE, last_text
            await self._run_calls(calls)
            self._check_cancelled()
        note = f"stopped after {self.settings.max_steps} model calls in one turn; say 'continue' to go on"
        self.emit(ev.ModelFailed(self.turn, note, note, None))
        return ev.TURN_DONE, last_text

    def _memory_block(self) -> str:
        if self.context_block is None:
            return ""
        try:
            return self.context_block(self.session_id)
        except Exception:
            log.exception("context block failed")
            return ""

    def _request_messages(self) -> list[dict[str, Any]]:
        system = [{"role": "system", "content": self.system_prompt}]
        extra = mode_reminder(self.mode)
        block = self._memory_block()
        if block:
            extra = f"{block}\n\n{extra}"
        system.append({"role": "system", "content": extra})
        return system + messages_for_model(self.transcript)

    async def _prepared_messages(self) -> list[dict[str, Any]]:
        if self.keeper is None:
            return self._request_messages()
        return await self.keeper.prepare(self.transcript, self.system_prompt, mode_reminder(self.mode),
                                         mid_turn=self._mid_turn, plain_block=self._memory_block)

    async def _one_reply(self) -> tuple[str, list[dict[str, Any]]] | None:
        """Stream one model reply into the transcript; None when the provider failed."""
        problem = self.credentials_problem
        if problem is not None:  # said at once, not as a provider error after retries
            self.emit(ev.ModelFailed(self.turn, problem, problem, None))
            return None
        # Re-read every reply: MCP servers come up in the background and one that dies drops out.
        self.offered = self.available_tools()
        tools = [tool.spec.as_openai() for tool in self.offered.values()]
        params: dict[str, Any] = {}
        if self.settings.temperature is not None:
            params["temperature"] = self.settings.temperature
        message_id: int | None = None
        pieces: list[str] = []
        last_save = time.monotonic()
        completion = None
        request = await self._prepared_messages()
        try:
            async with aclosing(self.gateway.stream(self.spec, request, tools, **params)) as stream:
                async for item in stream:
                    self._check_cancelled()
                    if isinstance(item, TextDelta):
                        if message_id is None:
                            message_id = await self._write(self._begin)
                        pieces.append(item.text)
                        self.emit(ev.TextDeltaEvent(self.turn, item.text))
                        if time.monotonic() - last_save > PARTIAL_SAVE_INTERVAL_S:
                            begun, partial_text = message_id, "".join(pieces)
                            await self._write(lambda: self.sessions.save_partial(begun, partial_text))
                            last_save = time.monotonic()
                    elif isinstance(item, StreamDone):
                        completion = item.completion
        except ModelError as err:
            partial = "".join(pieces) or err.partial_text
            if message_id is not None:
                failed = message_id
                self._record(await self._write(lambda: self.sessions.finish_message(failed, partial, status=FAILED)))
            if self.keeper is not None and not pieces and self.keeper.overflowed(err):
                return await self._one_reply()  # rebuilt before the request is sent again (once: see overflowed)
            self.emit(ev.ModelFailed(self.turn, str(err), err.provider_message, err.status, partial))
            return None
        except asyncio.CancelledError:
            if message_id is not None:
                cut, cut_text = message_id, "".join(pieces)
                self._record(await self._write(lambda: self.sessions.finish_message(cut, cut_text, status=INTERRUPTED)))
            raise
        if completion is None:
            self.emit(ev.ModelFailed(self.turn, "the stream ended without a result", "", None, "".join(pieces)))
            return None
        text = completion.text or "".join(pieces)
        calls = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in completion.tool_calls
        ]
        if message_id is None:
            message_id = await self._write(self._begin)
        finished = message_id
        await self._stored(lambda: self.sessions.finish_message(finished, text, tool_calls=calls, status=COMPLETE))
        self.emit(ev.AssistantMessageDone(self.turn, text, message_id))
        await self._account(completion, message_id)
        return text, calls

    def _begin(self) -> int:
        return self.sessions.begin_message(self.session_id, self.turn)

    async def account_helper(self, completion: Any, helper: str) -> None:
        """Count a helper's model call in this session's spend: stored with no message (so it is not taken for the
        context in use when the session is resumed), added to the session's cost, told to the subscriber."""
        try:
            await self._store_usage(completion, None)
        except RuntimeError:  # the session's writer has shut down (it is closing): the figure still counts it
            log.info("a %s call ended after session %s closed; its spend is not stored", helper, self.session_id)
        self.cost_usd += completion.usage.cost_usd
        self.emit(ev.HelperSpent(helper, completion.model, completion.usage.cost_usd, self.cost_usd))

    async def _store_usage(self, completion: Any, message_id: int | None) -> None:
        usage = completion.usage
        row = UsageRow(self.session_id, completion.model, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd,
                       completion.latency_s, message_id)
        await self._write(lambda: self.sessions.add_usage(row))

    async def _account(self, completion: Any, message_id: int) -> None:
        usage = completion.usage
        if self.spend_to is not None:
            await self.spend_to(completion)
        else:
            await self._store_usage(completion, message_id)
        self.cost_usd += usage.cost_usd
        before = self.context_tokens
        self.context_tokens = usage.prompt_tokens + usage.completion_tokens
        if self.keeper is not None:
            self.keeper.observe(before, self.context_tokens)
        self.emit(
            ev.UsageReported(
                self.turn, completion.model, usage.prompt_tokens, usage.completion_tokens, usage.cost_usd,
                self.cost_usd, self.context_tokens, self.settings.context_window,
            )
        )

    async def _stored(self, write: Callable[[], StoredMessage]) -> None:
        """Run a session-store write in a thread (a long text is also indexed for history search, ms of work)."""
        self._record(await self._write(write))

    def _record(self, message: StoredMessage) -> None:
        for index, existing in enumerate(self.transcript):
            if existing.id == message.id:
                self.transcript[index] = message
                return
        self.transcript.append(message)

    # -- tools ----------------------------------------------------------------------------------
    async def _run_calls(self, calls: list[dict[str, Any]]) -> None:
        pending = list(calls)
        running = False
        try:
            while pending:
                self._check_cancelled()
                running = True
                await self._run_call(pending[0])
                running = False
                pending.pop(0)
        except asyncio.CancelledError:
            for call in pending[1:] if running else pending:  # a running call stored its own result
                call_id, name = call["id"], call["function"]["name"]
                await self._stored(lambda: self._store_result(call_id, name, "cancelled by the user before it finished", True, 0.0))
            raise

    def _store_result(self, call_id: str, name: str, content: str, is_error: bool, duration: float) -> StoredMessage:
        return self.sessions.add_message(
            self.session_id, self.turn, "tool", content, tool_call_id=call_id, tool_name=name,
            is_error=is_error, duration_s=duration,
        )

    async def _run_call(self, call: dict[str, Any]) -> None:
        call_id = call["id"]
        name = call["function"]["name"]
        raw = call["function"]["arguments"] or ""
        started = time.perf_counter()
        args: dict[str, Any] = {}
        result: ToolResult
        status = "ok"
        try:
            parsed = json.loads(raw) if raw.strip() else {}
            if not isinstance(parsed, dict):
                raise ValueError(f"expected a JSON object, got {type(parsed).__name__}")
            args = parsed
        except ValueError as exc:
            self.emit(ev.ToolCallStarted(self.turn, call_id, name, {}, raw))
            result = ToolResult(
                f"the arguments of this {name} call are not valid JSON ({exc}); resend the call with a JSON object "
                "matching the tool's parameters",
                is_error=True,
            )
            await self._finish_call(call_id, name, result, "error", started)
            return
        self.emit(ev.ToolCallStarted(self.turn, call_id, name, args, raw))
        # A tool offered with this reply is used even if its server died since: its run says so clearly.
        tool = self.find_tool(name)
        if tool is None:
            available = ", ".join(self.available_tools())
            result = ToolResult(f"there is no tool named {name!r}; available: {available}", is_error=True)
            await self._finish_call(call_id, name, result, "error", started)
            return
        self._run_started = started
        try:
            result, status = await self._permitted_run(tool, name, call_id, args)
        except asyncio.CancelledError:
            await self._finish_cancelled_call(call_id, name)
            raise
        await self._finish_call(call_id, name, result, status, self._run_started)

    async def _permitted_run(self, tool: Tool, name: str, call_id: str, args: dict[str, Any]) -> tuple[ToolResult, str]:
        try:
            subject = self._subject(tool, name, args)
        except PathRefused as exc:
            return ToolResult(str(exc), is_error=True), "refused"
        refusal = sandbox_refusal(self.settings.write_scope, name, subject)
        if refusal:
            return ToolResult(refusal, is_error=True), "refused"
        if self.mode in READ_ONLY_MODES:
            refusal = plan_mode_refusal(name, is_read_only_call(tool, args), subject if name in PATH_TOOLS else None)
            if refusal:
                return ToolResult(refusal, is_error=True), "refused"
        action = self.policy.decide(name, subject)
        if action == DENY:
            return ToolResult(f"denied by a permission rule: {name} on {subject!r} is not allowed", is_error=True), "denied"
        if action == ASK:
            try:
                preview = await asyncio.to_thread(self._preview, tool, args)  # reads the file it would change
            except (ToolInputError, PathRefused, OSError) as exc:
                return ToolResult(str(exc), is_error=True), "error"
            answer = await self._ask(name, call_id, subject, args, preview)
            if answer == REJECT:
                return ToolResult(f"the user rejected this {name} call; do not retry it, ask the user instead", is_error=True), "denied"
            if answer == ALWAYS:
                rule = PermissionRule(name, exact_pattern(subject), ALLOW)  # this subject only, even if it holds * or ?
                self.policy.add(rule)
                if self.remember_rule is not None:
                    try:
                        await asyncio.to_thread(self.remember_rule, rule)  # a commit to the project config
                    except (StoreError, OSError, ValueError) as exc:
                        log.warning("could not save the permission rule: %s", exc)
        self.context.services["turn"] = self.turn
        self._run_started = time.perf_counter()  # the duration shown is the tool's, not the user's thinking time
        try:
            result = await tool.run(args, self.context)
        except (ToolInputError, PathRefused) as exc:
            return ToolResult(str(exc), is_error=True), "error"
        except StoreError as exc:
            wrote = not is_read_only_call(tool, args)
            prefix = "the memory repo refused the write" if wrote else "could not read from the memory repo"
            return ToolResult(f"{prefix}: {exc}", is_error=True, write_failed=wrote), "error"
        except OSError as exc:
            return ToolResult(f"{name} failed: {exc.strerror or exc}", is_error=True,
                              write_failed=not is_read_only_call(tool, args)), "error"
        except Exception as exc:  # a tool bug is reported to the model, never a crash of the turn
            log.exception("tool %s failed", name)
            return ToolResult(f"{name} failed unexpectedly: {type(exc).__name__}: {exc}", is_error=True), "error"
        return result, "error" if result.is_error else "ok"

    def _subject(self, tool: Tool, name: str, args: dict[str, Any]) -> str:
        """What permission globs match: the real project-relative path for path tools, else the tool's own subject.

        The file policy refuses here, before anyone is asked: a path outside the project, a write to git data.
        """
        if name in PATH_TOOLS:
            raw = args.get("path", ".")
            if isinstance(raw, str):
                check = check_write if name in WRITE_TOOLS else check_read
                return display_path(self.context.project_root, check(self.context.project_root, raw or "."))
        return tool.permission_subject(args)

    def _preview(self, tool: Tool, args: dict[str, Any]) -> str:
        preview = getattr(tool, "preview", None)
        if preview is None:
            return json.dumps(args, indent=2, ensure_ascii=False)
        return str(preview(args, self.context))

    async def _ask(self, name: str, call_id: str, subject: str, args: dict[str, Any], preview: str) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.emit(ev.PermissionRequest(self.turn, call_id, name, subject, args, preview, future))
        answer = await future
        return answer if answer in (ONCE, ALWAYS, REJECT) else REJECT

    async def _finish_call(self, call_id: str, name: str, result: ToolResult, status: str, started: float) -> None:
        duration = time.perf_counter() - started
        await self._stored(lambda: self._store_result(call_id, name, result.content, result.is_error, duration))
        self.emit(ev.ToolCallFinished(self.turn, call_id, name, result.content, status, duration, result.summary,
                                      result.write_failed))

    async def _finish_cancelled_call(self, call_id: str, name: str) -> None:
        duration = time.perf_counter() - self._run_started
        await self._stored(lambda: self._store_result(call_id, name, "cancelled by the user", True, duration))
        self.emit(ev.ToolCallFinished(self.turn, call_id, name, "cancelled by the user", "cancelled", duration, ""))
