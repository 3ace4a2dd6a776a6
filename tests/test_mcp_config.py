"""MCP server declarations from TOML config and `.mcp.json`, with clear errors for bad entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.agent.mcp import McpServers, load_server_configs
from mimo_tui.agent.mcp.config import UnsetVariableError, expand, resolve_header
from mimo_tui.config import load_config


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIMO_CONFIG", str(tmp_path / "user-config.toml"))
    (tmp_path / "proj" / ".mimo").mkdir(parents=True)
    return tmp_path / "proj"


def test_toml_and_mcp_json_are_merged(project: Path, tmp_path: Path) -> None:
    (tmp_path / "user-config.toml").write_text(
        '[mcp.servers.git]\ncommand = "uvx"\nargs = ["mcp-server-git"]\nenv = { GIT_DIR = "/x" }\n'
        '[mcp.servers.docs]\nurl = "https://example.test/mcp"\nheaders = { Authorization = "env:DOCS_TOKEN" }\n'
    )
    (project / ".mimo" / "config.toml").write_text('[mcp.servers.git]\nenabled = false\ncwd = "sub"\n')
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "clock": {"command": "mcp-server-time", "args": ["--local-timezone", "UTC"]},
        "git": {"command": "replaced-by-toml"},
        "remote": {"type": "http", "url": "https://remote.test/mcp", "headers": {"X-Key": "${KEY}"}},
    }}))
    declared = load_server_configs(load_config(project / ".mimo" / "config.toml"), project)
    assert declared.problems == []
    servers = {server.name: server for server in declared.servers}
    assert set(servers) == {"clock", "git", "remote", "docs"}
    git = servers["git"]
    assert (git.command, git.args, git.env, git.cwd, git.enabled) == ("uvx", ("mcp-server-git",), {"GIT_DIR": "/x"}, "sub", False)
    assert git.source.endswith("config.toml")
    assert servers["clock"].args == ("--local-timezone", "UTC") and servers["clock"].source.endswith(".mcp.json")
    assert (servers["remote"].transport, servers["remote"].headers) == ("http", {"X-Key": "${KEY}"})
    assert (servers["docs"].transport, servers["docs"].url) == ("http", "https://example.test/mcp")


def test_bad_entries_are_named_by_file_and_server(project: Path) -> None:
    (project / ".mimo" / "config.toml").write_text(
        '[mcp.servers.nocmd]\nargs = ["x"]\n'
        '[mcp.servers.badargs]\ncommand = "x"\nargs = "--flag"\n'
        '[mcp.servers.old]\ntype = "sse"\nurl = "http://h/sse"\n'
        '[mcp.servers.typo]\ncommand = "x"\nargz = ["y"]\n'
        '[mcp.servers.web]\nurl = "ftp://h"\n'
    )
    (project / ".mcp.json").write_text('{"mcpServers": {"a": {"command": "x"}, }')
    config_path = project / ".mimo" / "config.toml"
    declared = load_server_configs(load_config(config_path), project)
    messages = [str(problem) for problem in declared.problems]
    assert messages[0].startswith(f"MCP config error in {project / '.mcp.json'}: not valid JSON (line 1")
    assert f"MCP config error in {config_path}, server 'nocmd': 'command' must be a non-empty string" in messages
    assert f"MCP config error in {config_path}, server 'badargs': 'args' must be a list of strings" in messages
    assert any("server 'old': unknown transport 'sse'" in m and "streamable HTTP" in m for m in messages)
    assert f"MCP config error in {config_path}, server 'typo': unknown key(s) argz ignored" in messages
    assert any("server 'web': 'url' must be an http:// or https:// address" in m for m in messages)
    assert [server.name for server in declared.servers] == ["typo"]


def test_mcp_json_of_the_wrong_shape(project: Path) -> None:
    (project / ".mcp.json").write_text('{"servers": []}')
    declared = load_server_configs(load_config(None), project)
    assert [str(p) for p in declared.problems] == [
        f'MCP config error in {project / ".mcp.json"}: expected {{"mcpServers": {{NAME: {{...}}}}}}'
    ]


def test_variables_in_values_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMO_T_TOKEN", "abc")
    monkeypatch.delenv("MIMO_T_UNSET", raising=False)
    assert resolve_header("env:MIMO_T_TOKEN") == "abc"
    assert resolve_header("Bearer ${MIMO_T_TOKEN}") == "Bearer abc"
    assert expand("${MIMO_T_UNSET:-fallback}/x") == "fallback/x"
    with pytest.raises(UnsetVariableError, match="MIMO_T_UNSET is not set"):
        resolve_header("env:MIMO_T_UNSET")


def test_registry_from_config_reads_timeouts(project: Path) -> None:
    (project / ".mimo" / "config.toml").write_text(
        '[mcp]\nstartup_timeout_s = 3\ncall_timeout_s = 7.5\n[mcp.servers.a]\ncommand = "x"\n'
    )
    servers = McpServers.from_config(load_config(project / ".mimo" / "config.toml"), project)
    assert servers.names == ["a"] and servers.call_timeout_s == 7.5
    assert servers.connection("a").startup_timeout_s == 3.0
    assert [s.state for s in servers.status()] == ["stopped"]


def test_bad_timeout_is_reported_and_the_default_used(project: Path) -> None:
    (project / ".mimo" / "config.toml").write_text('[mcp]\nstartup_timeout_s = "soon"\n')
    servers = McpServers.from_config(load_config(project / ".mimo" / "config.toml"), project)
    assert [str(p) for p in servers.problems] == [
        f"MCP config error in {project / '.mimo' / 'config.toml'}: mcp.startup_timeout_s must be a positive number "
        "of seconds, got 'soon'; using 10"
    ]


def test_servers_declared_after_start_join_the_same_registry_and_known_ones_stay(project: Path) -> None:
    config_file = project / ".mimo" / "config.toml"
    config_file.write_text('[mcp.servers.first]\ncommand = "mcp-first"\n')
    servers = McpServers.from_config(load_config(config_file), project)
    first = servers.connection("first")
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"later": {"command": "mcp-later"}, "bad": {"command": 5}}}))
    assert servers.add_declared(load_config(config_file), project).added == ("later",)
    assert servers.names == ["first", "later"] and servers.connection("first") is first
    assert [s.state for s in servers.status()] == [first.state, servers.connection("later").state]
    assert any("'bad'" in str(problem) for problem in servers.problems)
    assert servers.add_declared(load_config(config_file), project).empty
