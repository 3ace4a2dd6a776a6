"""A subagent distill wrote (.mimo/agents/<name>.md) is usable by the agent tool: `definition=NAME` leads the child's
prompt with its instructions; an unknown name is an error that lists what is defined."""

from __future__ import annotations

import json
from typing import Any

from mimo_tui.agent import events as ev
from mimo_tui.maintenance.distill import DISTILL
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

DEFINITION = ("---\nname: ci-triage\ndescription: \"Triage a red CI run\"\n---\n# ci-triage\n\n"
              "Run `pytest -q`, read the failing test, fix it, run ruff.\n")


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall(name, json.dumps(args))


def is_child(body: dict) -> bool:
    return any(m["role"] == "system" and "subagent bound to task" in m["content"] for m in body["messages"])


async def test_the_agent_tool_starts_a_defined_subagent(agent_project: AgentProject,
                                                        openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[call("task", op="create", title="Triage CI")]),
        Reply(tool_calls=[call("agent", op="start", task="T1", prompt="test_cache fails", definition="nope")]),
        Reply(tool_calls=[call("agent", op="start", task="T1", prompt="test_cache fails", definition="ci-triage")]),
        Reply(text="Could not fix it."),  # the child
        Reply(text="The subagent reported back."),
    )
    events = RecordedEvents(answers=["once", "once"])
    agent = agent_project.open(events)
    agent_project.services.project.store.write("agents/ci-triage.md", DEFINITION, DISTILL)
    assert await agent.run_turn("triage CI with the ci-triage subagent") == ev.TURN_DONE
    parents = [r for r in openai_server.requests if not is_child(r)]
    refused = [m["content"] for m in parents[2]["messages"] if m["role"] == "tool"][-1]
    assert "no subagent definition 'nope'" in refused and "defined: ci-triage" in refused
    child = next(r for r in openai_server.requests if is_child(r))
    asked = [m["content"] for m in child["messages"] if m["role"] == "user"][0]
    assert asked.startswith("# ci-triage\n\nRun `pytest -q`") and asked.endswith("This time:\ntest_cache fails")
