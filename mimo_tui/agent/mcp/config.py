"""MCP server declarations from `[mcp.servers.<name>]` in config and from the project's `.mcp.json`."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.config import Config

MCP_JSON = ".mcp.json"
TRANSPORTS = {"stdio": "stdio", "http": "http", "streamable-http": "http", "streamable_http": "http"}
_STDIO_KEYS = {"command", "args", "env", "cwd", "enabled", "type", "transport"}
_HTTP_KEYS = {"url", "headers", "enabled", "type", "transport"}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class McpServerConfig:
    """One declared server: how to start or reach it, and where it was declared."""

    name: str
    transport: str
    source: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    enabled: bool = True


@dataclass(frozen=True)
class McpConfigProblem:
    """A declaration that could not be used, named by file and server."""

    source: str
    server: str | None
    message: str

    def __str__(self) -> str:
        where = self.source + (f", server '{self.server}'" if self.server else "")
        return f"MCP config error in {where}: {self.message}"


class UnsetVariableError(ValueError):
    """A declaration reads an environment variable that is not set."""


@dataclass
class McpConfigSet:
    """The usable declarations and the problems met reading them."""

    servers: list[McpServerConfig] = field(default_factory=list)
    problems: list[McpConfigProblem] = field(default_factory=list)


def load_server_configs(config: Config, project_root: Path) -> McpConfigSet:
    """Servers from `.mcp.json` then from config; a config entry replaces a `.mcp.json` one of the same name."""
    result = McpConfigSet()
    by_name: dict[str, McpServerConfig] = {}
    for server in _read_mcp_json(project_root / MCP_JSON, result.problems):
        by_name[server.name] = server
    servers = config.get("mcp.servers", {})
    if not isinstance(servers, dict):
        source = config.sources.get("mcp.servers", "config")
        result.problems.append(McpConfigProblem(source, None, "mcp.servers must be a table of [mcp.servers.NAME] tables"))
        servers = {}
    for name, entry in servers.items():
        source = _toml_source(config, name)
        server = parse_server(name, entry, source, result.problems)
        if server is not None:
            by_name[name] = server
    result.servers = list(by_name.values())
    return result


def parse_server(name: str, entry: Any, source: str, problems: list[McpConfigProblem]) -> McpServerConfig | None:
    """One declaration checked key by key; None (with problems recorded) when it cannot be used."""
    def problem(message: str) -> None:
        problems.append(McpConfigProblem(source, name, message))

    if not isinstance(entry, dict):
        problem(f"expected a table/object, got {type(entry).__name__}")
        return None
    kind = entry.get("type", entry.get("transport"))
    if kind is None:
        kind = "http" if "url" in entry and "command" not in entry else "stdio"
    if not isinstance(kind, str) or kind not in TRANSPORTS:
        hint = " (sse is not supported; use a streamable HTTP endpoint)" if kind == "sse" else ""
        problem(f"unknown transport {kind!r}; expected stdio or http{hint}")
        return None
    transport = TRANSPORTS[kind]
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        problem(f"'enabled' must be true or false, got {enabled!r}")
        return None
    known = _STDIO_KEYS if transport == "stdio" else _HTTP_KEYS
    unknown = sorted(set(entry) - known)
    if unknown and not source.endswith(MCP_JSON):
        problem(f"unknown key(s) {', '.join(unknown)} ignored")
    if transport == "stdio":
        command = entry.get("command")
        if not isinstance(command, str) or not command.strip():
            problem("'command' must be a non-empty string")
            return None
        args = entry.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            problem("'args' must be a list of strings")
            return None
        env = _string_table(entry.get("env", {}), "env", problem)
        cwd = entry.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            problem("'cwd' must be a string")
            return None
        if env is None:
            return None
        return McpServerConfig(name, "stdio", source, command=command, args=tuple(args), env=env, cwd=cwd, enabled=enabled)
    url = entry.get("url")
    if not isinstance(url, str) or not re.match(r"^(https?://|\$\{)", url):
        problem(f"'url' must be an http:// or https:// address, got {url!r}")
        return None
    headers = _string_table(entry.get("headers", {}), "headers", problem)
    if headers is None:
        return None
    return McpServerConfig(name, "http", source, url=url, headers=headers, enabled=enabled)


def expand(value: str, env: dict[str, str] | None = None) -> str:
    """`${NAME}` and `${NAME:-default}` replaced from the environment; an unset variable without default raises."""
    environ = os.environ if env is None else env

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise UnsetVariableError(f"environment variable {name} is not set")

    return _VARIABLE.sub(replace, value)


def resolve_header(value: str) -> str:
    """A header value, where `env:NAME` or `${NAME}` reads the environment so no secret sits in a committed file."""
    if value.startswith("env:"):
        name = value[4:].strip()
        if name not in os.environ:
            raise UnsetVariableError(f"environment variable {name} is not set")
        return os.environ[name]
    return expand(value)


def _read_mcp_json(path: Path, problems: list[McpConfigProblem]) -> list[McpServerConfig]:
    if not path.exists():
        return []
    source = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(McpConfigProblem(source, None, f"cannot be read ({exc})"))
        return []
    except json.JSONDecodeError as exc:
        problems.append(McpConfigProblem(source, None, f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"))
        return []
    servers = data.get("mcpServers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        problems.append(McpConfigProblem(source, None, 'expected {"mcpServers": {NAME: {...}}}'))
        return []
    parsed = (parse_server(name, entry, source, problems) for name, entry in servers.items())
    return [server for server in parsed if server is not None]


def _string_table(value: Any, key: str, problem: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        problem(f"'{key}' must be a table of strings")
        return None
    bad = [name for name, item in value.items() if not isinstance(item, (str, int, float)) or isinstance(item, bool)]
    if bad:
        problem(f"'{key}' values must be strings (bad: {', '.join(bad)})")
        return None
    return {str(name): str(item) for name, item in value.items()}


def _toml_source(config: Config, name: str) -> str:
    prefix = f"mcp.servers.{name}."
    for dotted, source in config.sources.items():
        if dotted.startswith(prefix):
            return source
    return "config"
