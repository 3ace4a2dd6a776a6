"""MCP tools through the agent loop: offered beside the built-in tools, permissions, results, a server that dies."""

from __future__ import annotations

import json

from mimo_tui.agent import events as ev
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.mcp_agent import allow_rule, mcp_server_config, model_config
from tests.fixtures.mcp_servers import processes_with
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def offered(body: dict) -> list[str]:
    return [tool["function"]["name"] for tool in body.get("tools", [])]


def tool_results(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


async def test_allowed_mcp_call_reaches_the_model_and_history(agent_project: AgentProject, openai_server: LocalOpenAIServer,
                                                             process_tag: str) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
                               + allow_rule("mcp__demo__*"))
    openai_server.queue(
        Reply(text="Adding.", tool_calls=[ToolCall("mcp__demo__add", json.dumps({"a": 2, "b": 40}))]),
        Reply(text="The sum is 42."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    servers = agent_project.services.mcp
    servers.start_all()
    await servers.wait_started(timeout=20)
    try:
        assert await agent.run_turn("add 2 and 40 with the demo server") == ev.TURN_DONE
        first, second = openai_server.requests
        assert "read_file" in offered(first) and "mcp__demo__add" in offered(first)
        add = next(t for t in first["tools"] if t["function"]["name"] == "mcp__demo__add")["function"]
        assert add["description"] == "Add two integers." and add["parameters"]["required"] == ["a", "b"]
        assert tool_results(second) == ["42"]
        assert not events.of(ev.PermissionRequest)
        [finished] = events.of(ev.ToolCallFinished)
        assert (finished.tool, finished.status, finished.content) == ("mcp__demo__add", "ok", "42")
        stored = [m for m in agent_project.services.sessions.messages(agent.session_id) if m.role == "tool"]
        assert [(m.tool_name, m.content) for m in stored] == [("mcp__demo__add", "42")]
        hits = agent_project.services.history_sink.search("42", limit=5)
        assert any(hit.session_id == agent.session_id and hit.role == "tool" for hit in hits), hits
    finally:
        await servers.stop_all()
    assert processes_with(process_tag) == []


async def test_no_rule_asks_and_reject_then_once(agent_project: AgentProject, openai_server: LocalOpenAIServer,
                                                 process_tag: str) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag))
    openai_server.queue(
        Reply(tool_calls=[ToolCall("mcp__demo__echo", '{"text": "first"}')]),
        Reply(tool_calls=[ToolCall("mcp__demo__echo", '{"text": "second"}')]),
        Reply(text="done"),
    )
    events = RecordedEvents(answers=["reject", "once"])
    agent = agent_project.open(events)
    servers = agent_project.services.mcp
    servers.start_all()
    await servers.wait_started(timeout=20)
    try:
        assert agent.policy.decide("mcp__demo__echo", "mcp__demo__echo") == "ask"
        assert await agent.run_turn("echo twice") == ev.TURN_DONE
        asks = events.of(ev.PermissionRequest)
        assert [(a.tool, a.subject, a.arguments) for a in asks] == [
            ("mcp__demo__echo", "mcp__demo__echo", {"text": "first"}),
            ("mcp__demo__echo", "mcp__demo__echo", {"text": "second"}),
        ]
        assert json.loads(asks[0].preview) == {"text": "first"}
        assert [f.status for f in events.of(ev.ToolCallFinished)] == ["denied", "ok"]
        assert "rejected" in tool_results(openai_server.requests[1])[0]
        assert tool_results(openai_server.requests[2])[-1] == "second"
    finally:
        await servers.stop_all()


async def test_tools_arrive_after_the_session_started_and_a_crashed_server_drops_out(
    agent_project: AgentProject, openai_server: LocalOpenAIServer, process_tag: str
) -> None:
    agent_project.write_config(model_config(openai_server.base_url) + mcp_server_config("demo", "demo_server.py", "stdio", process_tag)
                               + allow_rule("mcp__demo__*"))
    openai_server.queue(
        Reply(text="no MCP tools yet"),
        Reply(tool_calls=[ToolCall("mcp__demo__crash", "{}")]),
        Reply(text="the server crashed, going on"),
        Reply(text="still here"),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    servers = agent_project.services.mcp
    try:
        assert await agent.run_turn("hello") == ev.TURN_DONE
        assert not [name for name in offered(openai_server.requests[0]) if name.startswith("mcp__")]
        servers.start_all()
        await servers.wait_started(timeout=20)
        assert await agent.run_turn("crash it") == ev.TURN_DONE
        assert "mcp__demo__crash" in offered(openai_server.requests[1])
        [finished] = events.of(ev.ToolCallFinished)
        assert finished.status == "error"
        assert "MCP server 'demo'" in finished.content and "'crash'" in finished.content
        assert tool_results(openai_server.requests[2])[-1] == finished.content
        # the dead server's tools are not offered with the next reply; the session goes on
        assert not [name for name in offered(openai_server.requests[2]) if name.startswith("mcp__")]
        assert servers.status()[0].state == "failed"
        assert await agent.run_turn("are you there?") == ev.TURN_DONE
        assert events.of(ev.TurnEnded)[-1].text == "still here"
    finally:
        await servers.stop_all()
    assert processes_with(process_tag) == []
