"""The agent loop against a real local OpenAI-compatible server: streaming, tools, errors, modes, resume, permissions."""

from __future__ import annotations

import json
import tomllib

from mimo_tui.agent import events as ev
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import CutStream, ErrorReply, LocalOpenAIServer, Reply, ToolCall


def tool_messages(body: dict) -> list[dict]:
    return [m for m in body["messages"] if m["role"] == "tool"]


async def test_multi_turn_with_streamed_tool_calls(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(text="Let me look.", tool_calls=[ToolCall("read_file", json.dumps({"path": "README.md", "start_line": 1, "end_line": 1}))], chunk_size=3),
        Reply(text="The README title is Demo project."),
        Reply(text="Listing now.", tool_calls=[ToolCall("list_dir", '{"path": "src"}')]),
        Reply(text="src has app.py."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("what is the readme title?") == ev.TURN_DONE
    assert await agent.run_turn("and what is in src?") == ev.TURN_DONE
    assert len(openai_server.requests) == 4
    second = openai_server.requests[1]
    assert tool_messages(second)[0]["content"] == "1  # Demo project"
    assert openai_server.requests[3]["messages"][-1]["content"] == "app.py"
    # the second turn's request carries the whole first turn
    roles = [m["role"] for m in openai_server.requests[2]["messages"]]
    assert roles == ["system", "system", "user", "assistant", "tool", "assistant", "user"]
    deltas = "".join(e.text for e in events.of(ev.TextDeltaEvent))
    assert "Let me look." in deltas and "src has app.py." in deltas
    finished = events.of(ev.ToolCallFinished)
    assert [f.status for f in finished] == ["ok", "ok"] and all(f.duration_s >= 0 for f in finished)
    usage = events.of(ev.UsageReported)
    assert len(usage) == 4 and usage[-1].context_tokens > 0
    stored = agent_project.services.sessions.messages(agent.session_id)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant", "user", "assistant", "tool", "assistant"]
    assert all(m.status == "complete" for m in stored)


async def test_rate_limit_then_success(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(ErrorReply(429, "Rate limit reached for test", retry_after=0.01), Reply(text="fine now"))
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("hi") == ev.TURN_DONE
    assert len(openai_server.requests) == 2
    assert not events.of(ev.ModelFailed)
    assert events.of(ev.TurnEnded)[-1].text == "fine now"


async def test_provider_error_shows_its_message_and_retry_works(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(ErrorReply(400, "model 'test' does not support this request"), Reply(text="second try"))
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("hi") == ev.TURN_FAILED
    failure = events.of(ev.ModelFailed)[0]
    assert "does not support this request" in failure.provider_message
    assert await agent.retry() == ev.TURN_DONE
    assert [m.content for m in agent.transcript] == ["hi", "second try"]


async def test_stream_cut_mid_reply_keeps_partial_text(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(CutStream("The answer begins here and then"))
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("tell me") == ev.TURN_FAILED
    failure = events.of(ev.ModelFailed)[0]
    assert failure.partial_text.startswith("The answer begins")
    stored = agent_project.services.sessions.messages(agent.session_id)
    assert stored[-1].role == "assistant" and stored[-1].status == "error"
    assert stored[-1].content.startswith("The answer begins")


async def test_malformed_tool_call_json_goes_back_to_the_model(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("read_file", '{"path": "README.md"')]),
        Reply(text="Sorry, fixed."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("read it") == ev.TURN_DONE
    result = tool_messages(openai_server.requests[1])[0]["content"]
    assert "not valid JSON" in result
    assert events.of(ev.ToolCallFinished)[0].status == "error"


async def test_path_escape_is_refused(agent_project: AgentProject, openai_server: LocalOpenAIServer, tmp_path) -> None:
    agent_project.use_server(openai_server.base_url)
    (tmp_path / "outside.txt").write_text("secret outside\n")
    (agent_project.root / "link").symlink_to(tmp_path)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("read_file", '{"path": "../outside.txt"}'), ToolCall("read_file", '{"path": "link/outside.txt"}')]),
        Reply(text="ok"),
    )
    agent = agent_project.open(RecordedEvents())
    await agent.run_turn("read outside")
    results = [m["content"] for m in tool_messages(openai_server.requests[1])]
    assert len(results) == 2
    assert all("outside the project root" in r and "secret" not in r for r in results)


async def test_plan_mode_refuses_an_edit_but_allows_a_plan_file(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    edit = {"path": "src/app.py", "old_text": "def greet", "new_text": "def hello"}
    openai_server.queue(
        Reply(tool_calls=[ToolCall("edit_file", json.dumps(edit)), ToolCall("write_file", '{"path": ".mimo/plans/p.md", "content": "# Plan\\n"}')]),
        Reply(text="planned"),
    )
    agent = agent_project.open(RecordedEvents(), mode="plan")
    await agent.run_turn("rename greet")
    results = [m["content"] for m in tool_messages(openai_server.requests[1])]
    assert "plan mode is read-only" in results[0]
    assert results[1].startswith("created .mimo/plans/p.md")
    assert "def greet" in (agent_project.root / "src" / "app.py").read_text()
    assert "agent: wrote plans/p.md" in agent_project.services.project.store.head().message


async def test_resume_restores_the_transcript(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(Reply(text="first answer"), Reply(text="second answer"))
    agent = agent_project.open(RecordedEvents())
    await agent.run_turn("first question")
    resumed = agent_project.open(RecordedEvents(), resume="last")
    assert resumed.session_id == agent.session_id
    assert [m.content for m in resumed.transcript] == ["first question", "first answer"]
    await resumed.run_turn("second question")
    contents = [m["content"] for m in openai_server.requests[1]["messages"][2:]]
    assert contents == ["first question", "first answer", "second question"]
    assert resumed.turn == 2


async def test_resuming_without_naming_the_model_keeps_its_config_entry(agent_project: AgentProject,
                                                                       openai_server: LocalOpenAIServer) -> None:
    # Tried by hand: `mimo -c` after a restart said "model 'openai/test' has no credentials". Sessions keep the model
    # string; the resume looked it up as a [models] entry of that name and lost the entry's api_base and key.
    agent_project.write_config(
        '[model]\ndefault = "test"\n\n[models.elsewhere]\nmodel = "openai/test"\napi_base = "http://127.0.0.1:9/v1"\n\n'
        f'[models.test]\nmodel = "openai/test"\napi_base = "{openai_server.base_url}"\n')
    openai_server.queue(Reply(text="first answer"), Reply(text="second answer"))
    agent = agent_project.open(RecordedEvents(), model=None)  # type: ignore[arg-type]  # as `mimo -c` does
    assert await agent.run_turn("first question") == "done"
    resumed = agent_project.open(RecordedEvents(), model=None, resume="last")  # type: ignore[arg-type]
    assert resumed.session_id == agent.session_id
    assert resumed.credentials_problem is None and resumed.spec.api_base == openai_server.base_url  # the default's
    assert await resumed.run_turn("second question") == "done"
    assert len(openai_server.requests) == 2


async def test_permission_once_always_and_reject(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    write = lambda name: ToolCall("write_file", json.dumps({"path": name, "content": "x\n"}))  # noqa: E731
    openai_server.queue(
        Reply(tool_calls=[write("a.txt")]), Reply(text="a done"),
        Reply(tool_calls=[write("b.txt")]), Reply(text="b done"),
        Reply(tool_calls=[write("b.txt")]), Reply(text="b again"),
        Reply(tool_calls=[write("c.txt")]), Reply(text="c refused"),
    )
    events = RecordedEvents(answers=["once", "always", "reject"])
    agent = agent_project.open(events)
    for prompt in ("write a", "write b", "write b again", "write c"):
        await agent.run_turn(prompt)
    asks = events.of(ev.PermissionRequest)
    assert [a.subject for a in asks] == ["a.txt", "b.txt", "c.txt"]  # the second b.txt write was allowed by "always"
    assert "+x" in asks[0].preview
    assert (agent_project.root / "a.txt").exists() and (agent_project.root / "b.txt").exists()
    assert not (agent_project.root / "c.txt").exists()
    assert [f.status for f in events.of(ev.ToolCallFinished)] == ["ok", "ok", "ok", "denied"]
    config = tomllib.loads((agent_project.root / ".mimo" / "config.toml").read_text())
    assert {"tool": "write_file", "pattern": "b.txt", "action": "allow"} in config["permissions"]["rules"]
    assert config["models"]["test"]["model"] == "openai/test"
    reopened = agent_project.open(RecordedEvents())
    assert reopened.policy.decide("write_file", "b.txt") == "allow"


async def test_skills_and_project_instructions_reach_the_model(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    skill = agent_project.root / ".mimo" / "skills" / "release-notes"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: release-notes\ndescription: Write release notes from git log.\n---\nUse git log --oneline.\n")
    broken = agent_project.root / ".mimo" / "skills" / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("no front matter here\n")
    (agent_project.root / "AGENTS.md").write_text("Always run the tests with pytest -q.\n")
    openai_server.queue(Reply(tool_calls=[ToolCall("skill", '{"name": "release-notes"}')]), Reply(text="ok"))
    agent = agent_project.open(RecordedEvents())
    assert any("broken/SKILL.md" in p and "front matter" in p for p in agent_project.services.problems)
    await agent.run_turn("write release notes")
    system = openai_server.requests[0]["messages"][0]["content"]
    assert "- release-notes: Write release notes from git log." in system
    assert "Always run the tests with pytest -q." in system and "broken" not in system
    assert "Use git log --oneline." in tool_messages(openai_server.requests[1])[0]["content"]
    history = openai_server.requests[1]["messages"]
    # The memory block (what the memory pane's context preview shows) follows the stable system prompt.
    assert history[1]["role"] == "system" and history[1]["content"].endswith("Mode: build. All tools are available.")
    assert history[1]["content"].startswith('<memory block="')
    assert "<memory" not in system


async def test_history_and_memory_tools_use_the_memory_layer(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(text="Noted."),
        Reply(tool_calls=[ToolCall("history", '{"query": "capacitor settings"}'),
                          ToolCall("memory", '{"op": "append", "text": "The capacitor lives in settings.ini"}')]),
        Reply(tool_calls=[ToolCall("memory", '{"op": "search", "query": "capacitor"}')]),
        Reply(text="found it"),
    )
    first = agent_project.open(RecordedEvents())
    await first.run_turn("the flux capacitor config lives in settings.ini")
    second = agent_project.open(RecordedEvents())
    assert second.session_id != first.session_id
    await second.run_turn("where is the capacitor configured?")
    history_result, append_result = [m["content"] for m in tool_messages(openai_server.requests[2])]
    assert history_result.startswith(f"[{first.session_id} user user]") and "[capacitor] config lives in" in history_result
    assert append_result.startswith("appended to MEMORY.md under Discovered durable knowledge")
    search_result = tool_messages(openai_server.requests[3])[-1]["content"]
    assert search_result.startswith("MEMORY.md:") and "[capacitor]" in search_result
    memory = (agent_project.root / ".mimo" / "MEMORY.md").read_text()
    assert "- The capacitor lives in settings.ini (session " in memory
