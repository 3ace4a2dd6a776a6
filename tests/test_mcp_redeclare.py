"""An MCP declaration edited while the app runs: the old server stops, the new one starts, its tools replace the old."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from mimo_tui.agent.mcp import READY, McpServers
from mimo_tui.config import load_config
from tests.fixtures.mcp_servers import SERVERS_DIR, processes_with


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIMO_CONFIG", str(tmp_path / "user-config.toml"))
    (tmp_path / "proj" / ".mimo").mkdir(parents=True)
    return tmp_path / "proj"


def _declare(project: Path, tag: str, env: dict[str, str] | None = None, *, also: dict | None = None) -> None:
    entry = {"command": sys.executable, "args": [str(SERVERS_DIR / "demo_server.py"), "stdio", tag], "env": env or {}}
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {"demo": entry, **(also or {})}}))


async def test_an_edited_declaration_replaces_the_running_server_and_its_tools(project: Path, process_tag: str) -> None:
    config_file = project / ".mimo" / "config.toml"
    old_tag, new_tag = f"{process_tag}-old", f"{process_tag}-new"
    _declare(project, old_tag, also={"kept": {"command": sys.executable, "args": [str(SERVERS_DIR / "demo_server.py"), "stdio", f"{process_tag}-kept"]}})
    servers = McpServers.from_config(load_config(config_file), project)
    try:
        servers.start_all()
        await servers.wait_started(timeout=20)
        kept = servers.connection("kept")
        assert [s.state for s in servers.status()] == [READY, READY]
        assert "mcp__demo__shout" not in {tool.name for tool in servers.tools()}
        assert len(processes_with(old_tag)) == 1

        _declare(project, new_tag, {"DEMO_EXTRA_TOOL": "shout"}, also={"kept": {"command": sys.executable, "args": [str(SERVERS_DIR / "demo_server.py"), "stdio", f"{process_tag}-kept"]}})
        changes = servers.add_declared(load_config(config_file), project)
        assert (changes.added, changes.edited, changes.removed) == ((), ("demo",), ())
        # The old server's tools are gone at once: a turn never calls a server whose declaration changed.
        assert not any(tool.name.startswith("mcp__demo__") for tool in servers.tools())
        servers.apply(changes)
        await servers.wait_started(timeout=20)

        assert processes_with(old_tag) == [] and len(processes_with(new_tag)) == 1
        assert servers.connection("kept") is kept and kept.state == READY
        names = {tool.name for tool in servers.tools()}
        assert "mcp__demo__shout" in names and "mcp__demo__echo" in names
        assert [s.name for s in servers.status()] == ["demo", "kept"]
        assert servers.add_declared(load_config(config_file), project).empty
    finally:
        await servers.stop_all()
    assert processes_with(process_tag) == []


async def test_a_declaration_removed_while_running_stops_its_server(project: Path, process_tag: str) -> None:
    config_file = project / ".mimo" / "config.toml"
    _declare(project, process_tag)
    servers = McpServers.from_config(load_config(config_file), project)
    try:
        servers.start_all()
        await servers.wait_started(timeout=20)
        assert len(processes_with(process_tag)) == 1
        (project / ".mcp.json").write_text(json.dumps({"mcpServers": {}}))
        changes = servers.add_declared(load_config(config_file), project)
        assert (changes.added, changes.edited, changes.removed) == ((), (), ("demo",))
        assert servers.names == [] and servers.tools() == []
        servers.apply(changes)
        await servers.wait_started(timeout=20)
        assert processes_with(process_tag) == []
    finally:
        await servers.stop_all()
