"""MCP servers in `mimo run`: started and waited for before the first model call, failures on stderr, all stopped after."""

from __future__ import annotations

import json
import sys

import pytest

from mimo_tui.cli import main
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.mcp_agent import SERVERS_DIR, allow_rule, mcp_server_config, model_config
from tests.fixtures.mcp_servers import processes_with
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def test_offline_run_with_an_mcp_json_still_works(agent_project: AgentProject, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch, process_tag: str) -> None:
    monkeypatch.chdir(agent_project.root)
    demo = {"command": sys.executable, "args": [str(SERVERS_DIR / "demo_server.py"), "stdio", process_tag]}
    (agent_project.root / ".mcp.json").write_text(json.dumps({"mcpServers": {"demo": demo}}), encoding="utf-8")
    code = main(["run", "--json", "list the files here"])
    captured = capsys.readouterr()
    record = json.loads(captured.out.strip().splitlines()[-1])
    assert code == 0 and record["offline"] is True and record["status"] == "done"
    assert record["tool_calls"][0]["tool"] == "list_dir"
    [server] = record["mcp_servers"]
    assert server["name"] == "demo" and server["state"] == "ready" and "echo" in server["tools"]
    assert "Traceback" not in captured.err
    assert processes_with(process_tag) == []


def test_run_offers_mcp_tools_from_the_first_call_and_reports_failed_servers(
    agent_project: AgentProject, openai_server: LocalOpenAIServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, process_tag: str,
) -> None:
    monkeypatch.chdir(agent_project.root)
    agent_project.write_config(
        model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
        + '\n[mcp.servers.missing]\ncommand = "/nonexistent/mimo-no-such-server"\n' + allow_rule("mcp__demo__*")
    )
    openai_server.queue(Reply(tool_calls=[ToolCall("mcp__demo__big", '{"size": 100}')]), Reply(text="got it"))
    code = main(["run", "--json", "fetch a big result"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    record = json.loads(captured.out.strip().splitlines()[-1])
    assert "mcp__demo__big" in [t["function"]["name"] for t in openai_server.requests[0]["tools"]]
    [call] = record["tool_calls"]
    assert call["tool"] == "mcp__demo__big" and call["status"] == "ok" and len(call["result"]) == 100
    assert "MCP server 'missing'" in captured.err and "mimo-no-such-server" in captured.err
    assert {s["name"]: s["state"] for s in record["mcp_servers"]} == {"demo": "ready", "missing": "failed"}
    assert processes_with(process_tag) == []
