"""One MCP server: started over stdio or streamable HTTP in its own task, with a state, its tools and its stderr."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mimo_tui import __version__
from mimo_tui.agent.mcp.config import McpServerConfig, UnsetVariableError, expand, resolve_header

STARTING, READY, FAILED, STOPPED, DISABLED = "starting", "ready", "failed", "stopped", "disabled"
CONNECTION_CLOSED = -32000  # the SDK's JSON-RPC code for a connection that ended
STDERR_TAIL_BYTES = 4096
STDERR_TAIL_LINES = 12


@dataclass(frozen=True)
class McpToolInfo:
    """A tool as the server listed it."""

    name: str
    description: str
    input_schema: Any
    read_only: bool


class _StartupError(Exception):
    """A start that cannot work, already described."""


class McpCallError(Exception):
    """A tool call that did not produce a result; the message names the server and the tool."""


class McpConnection:
    """A server's lifecycle: start, ready with its tools, calls, and a clean stop that leaves no process."""

    def __init__(
        self,
        config: McpServerConfig,
        *,
        project_root: Path | None = None,
        startup_timeout_s: float = 10.0,
        on_change: Callable[[McpConnection], None] | None = None,
    ) -> None:
        self.config = config
        self.project_root = project_root
        self.startup_timeout_s = startup_timeout_s
        self.on_change = on_change
        self.state = STOPPED if config.enabled else DISABLED
        self.error = ""
        self.tools: list[McpToolInfo] = []
        self.server_label = ""
        self._task: asyncio.Task[None] | None = None
        self._session: Any = None
        self._scope: Any = None
        self._wake: Any = None
        self._settled = asyncio.Event()
        self._stop_requested = False
        self._server_closed = False
        self._stdout_garbage = ""
        self._stderr_file: IO[str] | None = None
        self._stderr_snapshot = ""
        self._calls_in_flight: list[str] = []
        self._background: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return self.config.name

    def start(self) -> None:
        """Start the server in a background task; returns at once (state `starting`)."""
        if self._task is not None and not self._task.done():
            return
        self._stop_requested = False
        self._server_closed = False
        self._stdout_garbage = ""
        self._settled = asyncio.Event()
        self.tools = []
        self._set_state(STARTING, "")
        self._task = asyncio.create_task(self._serve(), name=f"mcp-server:{self.name}")

    async def wait_settled(self, timeout: float | None = None) -> str:
        """Wait until the server is ready, failed or stopped; returns the state."""
        if self.state == STARTING:
            try:
                await asyncio.wait_for(self._settled.wait(), timeout)
            except TimeoutError:
                pass
        return self.state

    async def stop(self) -> None:
        """Stop the server and wait for its process (and the processes it started) to be gone."""
        task = self._task
        if task is None:
            return
        self._stop_requested = True
        if self.state == READY and self._wake is not None:
            # A ready server is closed gracefully (stdin closed, HTTP session deleted) before anything is cancelled.
            self._wake.set()
            await asyncio.wait([task], timeout=5.0)
        if not task.done() and self._scope is not None:
            self._scope.cancel()
        # The SDK bounds its own process shutdown (stdin close, SIGTERM, SIGKILL); this is a last resort.
        await asyncio.wait([task], timeout=15.0)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._task = None

    async def restart(self) -> None:
        """Stop then start again, even a server that is disabled in config."""
        await self.stop()
        self.start()

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr (stdio servers only)."""
        handle = self._stderr_file
        if handle is None:
            return self._stderr_snapshot
        try:
            size = os.fstat(handle.fileno()).st_size
            data = os.pread(handle.fileno(), STDERR_TAIL_BYTES, max(0, size - STDERR_TAIL_BYTES))
        except (OSError, ValueError):
            return self._stderr_snapshot
        lines = data.decode("utf-8", "replace").rstrip().splitlines()
        return "\n".join(line.rstrip() for line in lines[-STDERR_TAIL_LINES:])

    async def call_tool(self, tool: str, arguments: dict[str, Any], timeout_s: float) -> Any:
        """Call a tool and return the SDK's CallToolResult; raises McpCallError with a clear message otherwise."""
        session = self._session
        if self.state != READY or session is None:
            reason = f": {self.error}" if self.error else ""
            raise McpCallError(f"MCP server '{self.name}' is {self.state}{reason}")
        from mcp.shared.exceptions import MCPError
        from mcp.types import REQUEST_TIMEOUT

        self._calls_in_flight.append(tool)
        try:
            return await session.call_tool(tool, arguments, read_timeout_seconds=timeout_s)
        except MCPError as exc:
            code = exc.error.code
            if code == REQUEST_TIMEOUT:
                raise McpCallError(
                    f"MCP tool '{tool}' of server '{self.name}' did not answer within {timeout_s:g}s"
                ) from None
            if code == CONNECTION_CLOSED:
                if self._stop_requested:
                    raise McpCallError(f"MCP server '{self.name}' was stopped during the call of '{tool}'") from None
                message = f"MCP server '{self.name}' {self._gone} during the call of tool '{tool}'"
                self._fail(message)
                raise McpCallError(message) from None
            raise McpCallError(
                f"MCP server '{self.name}' rejected the call of tool '{tool}': {exc.error.message}"
            ) from None
        except McpCallError:
            raise
        except Exception as exc:
            raise McpCallError(f"MCP tool '{tool}' of server '{self.name}' failed: {_describe(exc)}") from None
        finally:
            self._calls_in_flight.remove(tool)

    async def _serve(self) -> None:
        import anyio

        self._wake = anyio.Event()
        self._stderr_file = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        phase = "start"
        try:
            async with AsyncExitStack() as stack:
                # Not cancellable: a cancel while the process is being spawned could leave it running.
                source, sink = await self._open_transport(stack, self._stderr_file)
                session = await self._open_session(stack, source, sink)
                with anyio.CancelScope() as scope:
                    self._scope = scope
                    if self._stop_requested:
                        scope.cancel()
                    phase = "initialize"
                    with anyio.fail_after(self.startup_timeout_s):
                        result = await session.initialize()
                        phase = "list tools"
                        self.tools = await _list_tools(session)
                    info = result.server_info
                    self.server_label = f"{info.name} {info.version}".strip() if info else ""
                    self._session = session
                    self._set_state(READY, "")
                    await self._wake.wait()
                    self._session = None
            if self._stop_requested:
                if self.state != FAILED:
                    self._set_state(STOPPED, "")
            elif self._server_closed:
                during = f" during the call of tool '{self._calls_in_flight[0]}'" if self._calls_in_flight else ""
                self._fail(f"MCP server '{self.name}' {self._gone} unexpectedly{during}")
        except Exception as exc:
            if self._stop_requested:
                if self.state != FAILED:
                    self._set_state(STOPPED, "")
            else:
                self._fail(self._startup_failure(exc, phase))
        finally:
            self._session = None
            self._scope = None
            self._stderr_snapshot = self.stderr_tail()
            self._stderr_file.close()
            self._stderr_file = None
            if self.state in (STARTING, READY):
                self._set_state(STOPPED, "")
            self._settled.set()

    async def _open_transport(self, stack: AsyncExitStack, stderr: IO[str]) -> tuple[Any, Any]:
        import anyio

        if self.config.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            cwd = Path(expand(self.config.cwd)) if self.config.cwd else self.project_root
            if cwd is not None and self.project_root is not None and not cwd.is_absolute():
                cwd = self.project_root / cwd
            if cwd is not None and not cwd.is_dir():
                raise _StartupError(f"working directory not found: {cwd}")
            # The server gets the user's whole environment, as when run from their shell, plus its own `env`.
            env = dict(os.environ) | {key: expand(value) for key, value in self.config.env.items()}
            params = StdioServerParameters(
                command=expand(self.config.command), args=[expand(arg) for arg in self.config.args], env=env, cwd=cwd
            )
            read, write = await stack.enter_async_context(stdio_client(params, errlog=stderr))
        else:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            headers = {key: resolve_header(value) for key, value in self.config.headers.items()}
            client = await stack.enter_async_context(create_mcp_http_client(headers=headers))
            read, write = await stack.enter_async_context(streamable_http_client(expand(self.config.url), http_client=client))
        # Messages pass through a pump so the end of the server's output is seen even with no call in flight.
        sink, source = anyio.create_memory_object_stream[Any](0)
        group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(group.cancel_scope.cancel)
        group.start_soon(self._pump, read, sink)
        return source, write

    async def _open_session(self, stack: AsyncExitStack, source: Any, sink: Any) -> Any:
        from mcp.client.session import ClientSession
        from mcp.types import Implementation

        session = ClientSession(
            source, sink, client_info=Implementation(name="mimo", version=__version__), message_handler=self._on_message
        )
        return await stack.enter_async_context(session)

    async def _on_message(self, message: Any) -> None:
        from mcp.types import ToolListChangedNotification

        if isinstance(message, ToolListChangedNotification) and self.state == READY:
            # Listing here would wait on the very receive loop that delivers the answer: list in a task of its own.
            task = asyncio.get_running_loop().create_task(self._refresh_tools(), name=f"mcp-tools:{self.name}")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _refresh_tools(self) -> None:
        session = self._session
        if session is None:
            return
        try:
            self.tools = await asyncio.wait_for(_list_tools(session), self.startup_timeout_s)
        except Exception:
            return  # the previous list stays; a dead server is noticed by the pump
        if self.state == READY:
            self._set_state(READY, "")

    async def _pump(self, read: Any, sink: Any) -> None:
        import anyio

        async with sink:
            try:
                async for item in read:
                    if isinstance(item, Exception):
                        self._stdout_garbage = self._stdout_garbage or _garbage_text(item)
                        continue
                    await sink.send(item)
            except (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream):
                pass
        if not self._stop_requested:
            self._server_closed = True
        self._wake.set()

    def _startup_failure(self, exc: BaseException, phase: str) -> str:
        leaf = _leaf(exc)
        where = f"MCP server '{self.name}'"
        garbage = f"; it wrote non-JSON-RPC output on stdout: {self._stdout_garbage!r}" if self._stdout_garbage else ""
        if isinstance(leaf, TimeoutError):
            return f"{where} did not answer {phase} within {self.startup_timeout_s:g}s{garbage}"
        if isinstance(leaf, (UnsetVariableError, _StartupError)):
            return f"{where}: {leaf}"
        if isinstance(leaf, FileNotFoundError):
            return f"{where}: command not found: {self.config.command}"
        if isinstance(leaf, PermissionError):
            return f"{where}: command is not executable: {self.config.command}"
        error = getattr(leaf, "error", None)
        if getattr(error, "code", CONNECTION_CLOSED) != CONNECTION_CLOSED:
            at = f" at {self.config.url}" if self.config.transport == "http" else ""
            return f"{where}{at} answered {phase} with an error: {error.message} (code {error.code})"
        if self._server_closed or _is_connection_closed(leaf):
            if self.config.transport == "stdio":
                return f"{where} exited during {phase}{garbage}"
            return f"{where} closed the connection during {phase}"
        if self.config.transport == "http" and type(leaf).__module__.startswith(("httpx", "httpcore")):
            return f"{where}: cannot reach {self.config.url}: {_describe(leaf)}"
        return f"{where} failed during {phase}: {_describe(leaf)}"

    @property
    def _gone(self) -> str:
        return "exited" if self.config.transport == "stdio" else "closed the connection"

    def _fail(self, message: str) -> None:
        if self.state in (STARTING, READY):
            self._set_state(FAILED, message)

    def _set_state(self, state: str, error: str) -> None:
        self.state = state
        self.error = error
        if state != STARTING:
            self._settled.set()
        if self.on_change is not None:
            self.on_change(self)


async def _list_tools(session: Any) -> list[McpToolInfo]:
    tools: list[McpToolInfo] = []
    cursor: str | None = None
    from mcp.types import PaginatedRequestParams

    while True:
        result = await session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        for tool in result.tools:
            hint = getattr(tool.annotations, "read_only_hint", None) if tool.annotations else None
            tools.append(McpToolInfo(tool.name, tool.description or tool.title or "", tool.input_schema, hint is True))
        cursor = result.next_cursor
        if not cursor:
            return tools


def _leaf(exc: BaseException) -> BaseException:
    """The first real exception inside (nested) exception groups."""
    while isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)] or list(exc.exceptions)
        exc = inner[0]
    return exc


def _is_connection_closed(exc: BaseException) -> bool:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None) == CONNECTION_CLOSED


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _garbage_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        try:
            value = errors()[0].get("input")
        except (IndexError, TypeError, AttributeError):
            value = None
        if isinstance(value, (str, bytes)):
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            return text.strip()[:120]
    return str(exc).splitlines()[0][:120]
