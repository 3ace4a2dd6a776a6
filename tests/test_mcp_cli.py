"""`mimo mcp list` from the shell: the published mcp-server-time works, a missing binary is reported, nothing is left running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fixtures.mcp_servers import MCP_SERVER_TIME, processes_with

WORKTREE = Path(__file__).resolve().parent.parent


def _mimo(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    home = project.parent / "home"
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "PYTHONPATH": str(WORKTREE)}
    env.pop("MIMO_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "mimo_tui", *args], cwd=project, env=env, capture_output=True, text=True, timeout=60
    )


def test_mcp_list_prints_servers_tools_and_failures(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    clock = tmp_path / "bin" / "mcp-server-time"  # a path of its own, to find the process afterwards
    clock.parent.mkdir()
    clock.symlink_to(MCP_SERVER_TIME)
    (project / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "clock": {"command": str(clock), "args": []},
        "ghost": {"command": "/nonexistent/mcp-ghost", "args": []},
    }}))
    done = _mimo(project, "mcp", "list")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Traceback" not in out
    lines = done.stdout.splitlines()
    assert lines[0] == "clock  stdio  ready  2 tools"
    assert any(line.split()[0] == "get_current_time" for line in lines[1:3])
    assert "ghost  stdio  failed" in lines
    assert "  error: MCP server 'ghost': command not found: /nonexistent/mcp-ghost" in lines
    assert processes_with(str(clock)) == []


def test_mcp_list_with_broken_config_exits_1_without_traceback(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".mimo").mkdir(parents=True)
    (project / ".mcp.json").write_text('{"mcpServers": {"x": {"command": 5}}}')
    done = _mimo(project, "mcp", "list")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"MCP config error in {project / '.mcp.json'}, server 'x': 'command' must be a non-empty string" in done.stderr
    assert "no MCP servers declared" in done.stdout
