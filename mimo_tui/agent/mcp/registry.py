"""All MCP servers of a project: started in the background, their tools, their status, and a clean stop."""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.agent.mcp.config import McpConfigProblem, McpServerConfig, load_server_configs
from mimo_tui.agent.mcp.connection import READY, McpConnection
from mimo_tui.agent.mcp.tool import McpTool, schema_problem, tool_name
from mimo_tui.config import Config

DEFAULT_STARTUP_TIMEOUT_S = 10.0
DEFAULT_CALL_TIMEOUT_S = 120.0
_SDK_MODULES = ("mcp.client.session", "mcp.client.stdio", "mcp.client.streamable_http", "jsonschema")


@dataclass(frozen=True)
class McpToolSummary:
    """A callable tool as listed for the user: its server-side name, the name the model sees, its description."""

    name: str
    full_name: str
    description: str


@dataclass(frozen=True)
class McpServerStatus:
    """What the UI shows for one server."""

    name: str
    transport: str
    state: str
    tools: tuple[McpToolSummary, ...]
    error: str
    stderr_tail: str
    notices: tuple[str, ...]
    source: str

    @property
    def tool_names(self) -> tuple[str, ...]:
        return tuple(tool.name for tool in self.tools)

    @property
    def tool_count(self) -> int:
        return len(self.tools)


@dataclass(frozen=True)
class McpServerChanged:
    """A server changed state (starting, ready, failed, stopped) or, while ready, its tools; `status` is its new record."""

    status: McpServerStatus


@dataclass(frozen=True)
class DeclarationChanges:
    """What a new reading of the declarations changed: servers added, edited (restarted) and removed (stopped)."""

    added: tuple[str, ...] = ()
    edited: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def to_start(self) -> tuple[str, ...]:
        return self.added + self.edited

    @property
    def empty(self) -> bool:
        return not (self.added or self.edited or self.removed)

    def describe(self) -> str:
        """One line for the user, e.g. "starting a (declared since start); restarting b (declaration edited)"."""
        parts = []
        if self.added:
            parts.append(f"starting {', '.join(self.added)} (declared since start)")
        if self.edited:
            parts.append(f"restarting {', '.join(self.edited)} (declaration edited)")
        if self.removed:
            parts.append(f"stopping {', '.join(self.removed)} (no longer declared)")
        return "; ".join(parts)


class McpServers:
    """The registry the agent and the UI use: `start_all()`, `tools()`, `status()`, `restart(name)`, `stop_all()`."""

    def __init__(
        self,
        servers: list[McpServerConfig],
        *,
        project_root: Path | None = None,
        startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
        call_timeout_s: float = DEFAULT_CALL_TIMEOUT_S,
        problems: list[McpConfigProblem] | None = None,
    ) -> None:
        self.problems = list(problems or [])
        self.call_timeout_s = call_timeout_s
        self._project_root = project_root
        self._startup_timeout_s = startup_timeout_s
        self._subscribers: list[Callable[[McpServerChanged], None]] = []
        self._tools: dict[str, tuple[list[McpTool], tuple[str, ...]]] = {}
        self._connections = {
            server.name: McpConnection(
                server, project_root=project_root, startup_timeout_s=startup_timeout_s, on_change=self._changed
            )
            for server in servers
        }
        self._retired: list[McpConnection] = []
        self._start_task: asyncio.Task[None] | None = None
        # The SDK logs unparseable server output with tracebacks; with no handler Python would print them.
        sdk_logger = logging.getLogger("mcp")
        if not any(isinstance(handler, logging.NullHandler) for handler in sdk_logger.handlers):
            sdk_logger.addHandler(logging.NullHandler())

    @classmethod
    def from_config(cls, config: Config, project_root: Path) -> McpServers:
        """The servers declared in `config` and the project's `.mcp.json`, with timeouts from `mcp.*_timeout_s`."""
        declared = load_server_configs(config, project_root)
        startup = _seconds(config, "mcp.startup_timeout_s", DEFAULT_STARTUP_TIMEOUT_S, declared.problems)
        call = _seconds(config, "mcp.call_timeout_s", DEFAULT_CALL_TIMEOUT_S, declared.problems)
        return cls(
            declared.servers,
            project_root=project_root,
            startup_timeout_s=startup,
            call_timeout_s=call,
            problems=declared.problems,
        )

    def add_declared(self, config: Config, project_root: Path) -> DeclarationChanges:
        """Read the declarations again (config or `.mcp.json` changed since start) and take the changes in.

        A new server joins; a server whose declaration was edited (command, args, env, url...) gets a new
        connection and the old one is retired; a server no longer declared is retired. Retired servers' tools are
        gone at once; `apply(changes)` stops them and starts the new ones. Unchanged servers keep running.
        """
        declared = load_server_configs(config, project_root)
        root = self._project_root or project_root
        added: list[str] = []
        edited: list[str] = []
        wanted = {server.name for server in declared.servers}
        removed = [name for name in self._connections if name not in wanted]
        for name in removed:
            self._retire(self._connections.pop(name))
        for server in declared.servers:
            current = self._connections.get(server.name)
            if current is not None and current.config == server:
                continue
            if current is not None:
                self._retire(current)
                edited.append(server.name)
            else:
                added.append(server.name)
            self._connections[server.name] = McpConnection(
                server, project_root=root, startup_timeout_s=self._startup_timeout_s, on_change=self._changed
            )
        self.problems = list(declared.problems)
        return DeclarationChanges(tuple(added), tuple(edited), tuple(removed))

    def apply(self, changes: DeclarationChanges) -> None:
        """Stop retired servers, then start the added and edited ones, in the background (needs a running loop)."""
        self.start(list(changes.to_start))

    def start(self, names: list[str]) -> None:
        """Stop retired servers, then start the named enabled servers, in the background (needs a running loop)."""
        retired, self._retired = self._retired, []
        previous = self._start_task

        async def start_named() -> None:
            if previous is not None and not previous.done():
                await asyncio.gather(previous, return_exceptions=True)
            # The old process goes first, so an edited server never runs twice (ports, locks, files).
            await asyncio.gather(*(connection.stop() for connection in retired), return_exceptions=True)
            await self._import_sdk()
            for name in names:
                connection = self._connections.get(name)
                if connection is not None and connection.config.enabled:
                    connection.start()

        self._start_task = asyncio.get_running_loop().create_task(start_named(), name="mcp-start-added")

    def _retire(self, connection: McpConnection) -> None:
        # Its events would be mistaken for those of the new connection of the same name.
        connection.on_change = None
        self._tools.pop(connection.name, None)
        self._retired.append(connection)

    @property
    def names(self) -> list[str]:
        return list(self._connections)

    def connection(self, name: str) -> McpConnection:
        return self._connections[name]

    def subscribe(self, callback: Callable[[McpServerChanged], None]) -> Callable[[], None]:
        """Receive a McpServerChanged on every state change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def start_all(self) -> None:
        """Start every enabled server concurrently in the background; returns at once (needs a running loop)."""
        if self._start_task is None or self._start_task.done():
            self._start_task = asyncio.get_running_loop().create_task(self._start_enabled(), name="mcp-start-all")

    async def wait_started(self, timeout: float | None = None) -> None:
        """Wait until no server is starting any more (each is ready, failed or stopped)."""
        async def settle() -> None:
            if self._start_task is not None:
                await self._start_task
            await asyncio.gather(*(c.wait_settled() for c in self._connections.values()))

        try:
            await asyncio.wait_for(settle(), timeout)
        except TimeoutError:
            pass

    def tools(self) -> list[McpTool]:
        """The callable tools of every ready server, as agent Tools named `mcp__<server>__<tool>`."""
        found: list[McpTool] = []
        for connection in self._connections.values():
            if connection.state == READY:
                found.extend(self._tools_of(connection)[0])
        return found

    def tool(self, name: str) -> McpTool | None:
        """A callable tool by its full name."""
        return next((tool for tool in self.tools() if tool.name == name), None)

    def status(self) -> list[McpServerStatus]:
        """One record per declared server, in declaration order."""
        return [self._status_of(connection) for connection in self._connections.values()]

    async def restart(self, name: str) -> McpServerStatus:
        """Restart one server and wait until it is ready or failed; raises KeyError for an unknown name."""
        connection = self._connections[name]
        await self._import_sdk()
        await connection.restart()
        await connection.wait_settled()
        return self._status_of(connection)

    async def stop(self, name: str) -> McpServerStatus:
        """Stop one server for the rest of the session; raises KeyError for an unknown name."""
        connection = self._connections[name]
        await connection.stop()
        return self._status_of(connection)

    async def stop_all(self) -> None:
        """Stop every server; when this returns no server process is left."""
        if self._start_task is not None and not self._start_task.done():
            await asyncio.gather(self._start_task, return_exceptions=True)
        retired, self._retired = self._retired, []
        connections = [*self._connections.values(), *retired]
        await asyncio.gather(*(c.stop() for c in connections), return_exceptions=True)

    async def _start_enabled(self) -> None:
        await self._import_sdk()
        for connection in self._connections.values():
            if connection.config.enabled:
                connection.start()

    async def _import_sdk(self) -> None:
        # Importing the SDK takes most of a second; a thread keeps the event loop (and the UI) responsive.
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in _SDK_MODULES])

    def _tools_of(self, connection: McpConnection) -> tuple[list[McpTool], tuple[str, ...]]:
        key = connection.name
        cached = self._tools.get(key)
        if cached is not None:
            return cached
        tools: list[McpTool] = []
        notices: list[str] = []
        seen: set[str] = set()
        for info in connection.tools:
            problem = schema_problem(info.input_schema)
            full = tool_name(connection.name, info.name)
            if problem is None and full in seen:
                problem = f"its name clashes with another tool as {full}"
            if problem is not None:
                notices.append(f"MCP server '{connection.name}': tool '{info.name}' skipped: {problem}")
                continue
            seen.add(full)
            tools.append(McpTool(connection, info, self.call_timeout_s))
        self._tools[key] = (tools, tuple(notices))
        return self._tools[key]

    def _status_of(self, connection: McpConnection) -> McpServerStatus:
        tools, notices = self._tools_of(connection) if connection.state == READY else ([], ())
        return McpServerStatus(
            name=connection.name,
            transport=connection.config.transport,
            state=connection.state,
            tools=tuple(McpToolSummary(tool.tool, tool.name, tool.spec.description) for tool in tools),
            error=connection.error,
            stderr_tail=connection.stderr_tail(),
            notices=notices,
            source=connection.config.source,
        )

    def _changed(self, connection: McpConnection) -> None:
        self._tools.pop(connection.name, None)
        event = McpServerChanged(self._status_of(connection))
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                # A broken subscriber must not take a server's lifecycle down with it.
                logging.getLogger(__name__).exception("MCP event subscriber failed")



def _seconds(config: Config, key: str, default: float, problems: list[McpConfigProblem]) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        source = config.sources.get(key, "config")
        problems.append(McpConfigProblem(source, None, f"{key} must be a positive number of seconds, got {value!r}; using {default:g}"))
        return default
    return float(value)
