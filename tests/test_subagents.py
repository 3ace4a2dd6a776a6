"""Subagents against the local server: a child session bound to a task, its tools, its sandbox and its contract."""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def call(name: str, **args: Any) -> ToolCall:
    return ToolCall(name, json.dumps(args))


def is_child(body: dict) -> bool:
    return any(m["role"] == "system" and "subagent bound to task" in m["content"] for m in body["messages"])


async def test_foreground_subagent_works_its_task_inside_its_sandbox(agent_project: AgentProject,
                                                                    openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    progress = dict(op="progress", id="T1", intent="rename greet", files="src/app.py", commands="none",
                    outcome="greet is now welcome in src/app.py")
    openai_server.queue(
        # the parent plans two tasks and hands T1 to a subagent that may write src/*
        Reply(tool_calls=[call("task", op="create", title="Rename greet"), call("task", op="create", title="Docs")]),
        Reply(tool_calls=[call("agent", op="start", task="T1", prompt="rename greet to welcome", paths=["src/*"])]),
        # the child: one edit inside the sandbox, one outside, a task that is not its own
        Reply(tool_calls=[call("task", op="start", id="T1"),
                          call("edit_file", path="src/app.py", old_text="def greet", new_text="def welcome"),
                          call("write_file", path="README.md", content="hijacked\n"),
                          call("task", op="done", id="T2")]),
        # done before its progress log is refused; then it writes the log and finishes
        Reply(tool_calls=[call("task", op="done", id="T1")]),
        Reply(tool_calls=[call("task", **progress), call("task", op="done", id="T1")]),
        Reply(text="Renamed greet to welcome in src/app.py."),
        # the parent reads the child's answer
        Reply(text="The subagent finished T1."),
    )
    events = RecordedEvents(answers=["once"])  # the user agrees to "start T1 writes src/*"
    agent = agent_project.open(events)
    assert await agent.run_turn("rename greet, with a subagent") == ev.TURN_DONE

    asks = events.of(ev.PermissionRequest)
    assert [(a.tool, a.subject) for a in asks] == [("agent", "start T1 writes src/*")]
    children = [r for r in openai_server.requests if is_child(r)]
    parents = [r for r in openai_server.requests if not is_child(r)]
    assert len(children) == 4 and len(parents) == 3
    # restricted tools; the same cacheable system prompt as the parent's; its own block after it
    offered = {t["function"]["name"] for t in children[0]["tools"]}
    assert offered == {"read_file", "list_dir", "glob", "grep", "write_file", "edit_file", "task"}
    assert children[0]["messages"][0] == parents[0]["messages"][0]
    results = [m["content"] for m in children[1]["messages"] if m["role"] == "tool"]
    assert results[0].startswith("◐ T1")
    assert results[1].startswith("edited")
    assert "outside this subagent's write sandbox" in results[2]
    assert "T2 is not yours" in results[3]
    told = [m["content"] for m in children[2]["messages"] if m["role"] == "tool"][-1]
    assert "cannot be marked done yet" in told
    assert "def welcome" in (agent_project.root / "src" / "app.py").read_text()
    assert (agent_project.root / "README.md").read_text().startswith("# Demo project")
    # the parent got the child's answer as the tool result
    answer = [m["content"] for m in parents[2]["messages"] if m["role"] == "tool"][-1]
    assert "Renamed greet to welcome in src/app.py." in answer and "[finished]" in answer
    tasks = agent_project.services.tasks
    t1, t2 = tasks.list(agent.session_id)
    assert (t1.status, t2.status) == ("done", "open")
    assert tasks.focus(agent.session_id) is None  # the child never took the parent's focus
    log = subprocess.run(["git", "--git-dir", str(agent_project.root / ".mimo" / ".git"), "log", "--format=%an",
                          "--", f"sessions/{agent.session_id}/tasks/T1/progress.md"], capture_output=True, text=True)
    assert log.stdout.split()[0] == "subagent"
    states = [(e.agent_id, e.state) for e in events.of(wev.SubagentChanged)]
    assert states == [("a1", "running"), ("a1", "finished")]
    # the child's session is stored, but "resume the last session" still means the parent's
    assert agent_project.services.sessions.last().id == agent.session_id
    registry = agent.context.services["subagents"]
    folded, ids = registry.finished_progress()
    assert "greet is now welcome in src/app.py" in folded and ids == ("a1",)


async def test_background_subagent_shows_in_the_task_tree_and_can_be_cancelled(agent_project: AgentProject,
                                                                              openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.responder = lambda body: Reply(text="thinking slowly", delay=3.0 if is_child(body) else 0.0)
    events = RecordedEvents()
    agent = agent_project.open(events)
    tasks = agent_project.services.tasks
    tasks.create(agent.session_id, "Long analysis")
    registry = agent.context.services["subagents"]
    record = await registry.start("T1", "analyse everything", (), background=True)
    await asyncio.sleep(0.3)
    task = tasks.get(agent.session_id, "T1")
    assert (task.status, task.note) == ("in_progress", "subagent a1 running")
    assert "a1 on T1 [running, background] writes: read-only" in registry.active_block()
    # the parent's memory block (what each turn carries after the system prompt) lists it
    block = agent.context_block(agent.session_id)
    assert "a1 on T1 [running, background]" in block
    registry.cancel("a1")
    await registry.wait("a1", timeout_s=5)
    assert record.state == "cancelled"
    assert tasks.get(agent.session_id, "T1").note.startswith("subagent a1 cancelled")
    assert [e.state for e in events.of(wev.SubagentChanged)] == ["running", "cancelled"]
    # until the parent model reads how it ended, the block says it ended (it no longer says running)
    assert registry.active_block().endswith("[cancelled, background] writes: read-only: ended, answer not read yet "
                                            "(agent op=wait id=a1)")
    assert "[running" not in agent.context_block(agent.session_id)
    registry.report(record)
    assert registry.active_block() == "" and "a1 on T1" not in agent.context_block(agent.session_id)


async def test_checkpoint_hook_hands_over_finished_progress_until_a_checkpoint_holds_it(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    from mimo_tui.agent.subagents import checkpoint_written, progress_for_checkpoint

    agent_project.use_server(openai_server.base_url)
    progress = dict(op="progress", id="T1", intent="count files", files="-", commands="`ls`", outcome="PLANTED-FACT-7731")
    openai_server.queue(Reply(tool_calls=[call("task", **progress), call("task", op="done", id="T1")]), Reply(text="ok"))
    agent = agent_project.open(RecordedEvents())
    agent_project.services.tasks.create(agent.session_id, "Count files")
    assert progress_for_checkpoint(agent) == ("", ())
    registry = agent.context.services["subagents"]
    await registry.start("T1", "count the files", (), background=False)
    folded, ids = progress_for_checkpoint(agent)
    assert folded.startswith("Subagents finished since the last checkpoint") and "PLANTED-FACT-7731" in folded
    # a writer that failed did not call checkpoint_written: the next one still gets it
    assert progress_for_checkpoint(agent) == (folded, ids)
    checkpoint_written(agent, ids)
    assert progress_for_checkpoint(agent) == ("", ())


async def test_a_subagent_cancelled_before_its_turn_begins_is_cancelled(agent_project: AgentProject,
                                                                       openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    agent = agent_project.open(RecordedEvents())
    agent_project.services.tasks.create(agent.session_id, "Never started")
    registry = agent.context.services["subagents"]
    record = await registry.start("T1", "anything", (), background=True)
    registry.cancel(record.id)  # at once: the child's task has not run yet
    await registry.wait(record.id, timeout_s=5)
    assert record.state == "cancelled" and openai_server.requests == []
    assert agent_project.services.tasks.get(agent.session_id, "T1").note.startswith("subagent a1 cancelled")


async def test_the_checkpoint_writer_folds_in_a_finished_subagents_progress(agent_project: AgentProject,
                                                                          openai_server: LocalOpenAIServer) -> None:
    from mimo_tui.agent.subagents import progress_for_checkpoint
    from tests.fixtures.scripted_long_session import checkpoint_reply, kind_of

    agent_project.write_config(
        '[model]\ncontext_window = 32000\n\n[llm]\nmax_retries = 1\n'
        f'[models.test]\nmodel = "openai/test"\napi_base = "{openai_server.base_url}"\n')
    progress = dict(op="progress", id="T1", intent="find the port", files="conf/app.toml", commands="`grep port`",
                    outcome="SUBAGENT-FACT-4417: the port is 8443")
    child = [Reply(tool_calls=[call("task", **progress), call("task", op="done", id="T1")]), Reply(text="found it")]
    parent = [Reply(tool_calls=[call("agent", op="start", task="T1", prompt="find the port")]),
              Reply(text="The subagent found the port.", prompt_tokens=6000)]
    openai_server.responder = lambda body: (Reply(text=checkpoint_reply(body)) if kind_of(body) == "writer"
                                            else child.pop(0) if is_child(body) else parent.pop(0))
    events = RecordedEvents(answers=["once"])
    agent = agent_project.open(events)
    agent_project.services.tasks.create(agent.session_id, "Find the port")
    assert await agent.run_turn("find the port with a subagent") == ev.TURN_DONE
    assert await agent.keeper.finish(20)
    writer = next(b for b in openai_server.requests if kind_of(b) == "writer")
    prompt = writer["messages"][-1]["content"]
    assert "Subagents' progress logs" in prompt and "SUBAGENT-FACT-4417: the port is 8443" in prompt
    assert progress_for_checkpoint(agent) == ("", ())  # in a committed checkpoint now: not handed over again


async def test_abandoning_the_task_of_a_running_subagent_stops_it_and_says_so(agent_project: AgentProject,
                                                                             openai_server: LocalOpenAIServer) -> None:
    # Seen by hand: a task abandoned from the task pane left its background subagent working (and paying) on it,
    # and when that child ended its "finished" was never told: noting it on the abandoned task raised.
    agent_project.use_server(openai_server.base_url)
    openai_server.responder = lambda body: Reply(tool_calls=[call("list_dir", path=".")], delay=0.3)
    events = RecordedEvents()
    agent = agent_project.open(events)
    tasks = agent_project.services.tasks
    tasks.create(agent.session_id, "Survey")
    registry = agent.context.services["subagents"]
    record = await registry.start("T1", "survey slowly", (), background=True)
    for _ in range(500):  # the child's first request
        if openai_server.requests:
            break
        await asyncio.sleep(0.02)
    # the pane abandons it from a worker thread, as the user's `x` does
    await asyncio.to_thread(tasks.abandon, agent.session_id, "T1", "not needed")
    await registry.wait(record.id, timeout_s=5)
    assert record.state == "cancelled" and record.runner is not None and record.runner.done()
    assert [e.state for e in events.of(wev.SubagentChanged)] == ["running", "cancelled"]
    asked = len(openai_server.requests)
    await asyncio.sleep(0.8)
    assert len(openai_server.requests) == asked, "the child kept asking the model after its task was abandoned"
    task = tasks.get(agent.session_id, "T1")
    assert (task.status, task.note) == ("abandoned", "not needed")  # the user's reason stays


async def test_the_sessions_spend_counts_its_checkpoint_writer_and_subagents(agent_project: AgentProject,
                                                                           openai_server: LocalOpenAIServer) -> None:
    # The status line's dollars (and /goal's cost cap) counted only the main agent's own calls: a checkpoint
    # writer and subagents on a paid model spent unseen.
    from tests.fixtures.scripted_long_session import checkpoint_reply, kind_of

    agent_project.write_config(  # gpt-4o-mini's price from litellm's local table; the calls go to the local server
        '[model]\ncontext_window = 32000\n\n[llm]\nmax_retries = 1\n'
        f'[models.test]\nmodel = "openai/gpt-4o-mini"\napi_base = "{openai_server.base_url}"\napi_key = "sk-test"\n')
    progress = dict(op="progress", id="T1", intent="find the port", files="-", commands="-", outcome="8443")
    child = [Reply(tool_calls=[call("task", **progress), call("task", op="done", id="T1")]), Reply(text="found it")]
    parent = [Reply(tool_calls=[call("agent", op="start", task="T1", prompt="find the port")]),
              Reply(text="The subagent found the port.", prompt_tokens=6000, completion_tokens=40)]
    openai_server.responder = lambda body: (Reply(text=checkpoint_reply(body), prompt_tokens=3000, completion_tokens=900)
                                            if kind_of(body) == "writer"
                                            else child.pop(0) if is_child(body) else parent.pop(0))
    events = RecordedEvents(answers=["once"])
    agent = agent_project.open(events)
    agent_project.services.tasks.create(agent.session_id, "Find the port")
    assert await agent.run_turn("find the port with a subagent") == ev.TURN_DONE
    assert await agent.keeper.finish(20)
    own = events.of(ev.UsageReported)
    helpers = events.of(ev.HelperSpent)
    assert {h.helper for h in helpers} == {"checkpoint-writer", "subagent a1"}
    assert all(h.cost_usd > 0 for h in helpers) and len(helpers) == 3  # the writer once, the child twice
    total = sum(u.cost_usd for u in own) + sum(h.cost_usd for h in helpers)
    assert agent.cost_usd == pytest.approx(total) and helpers[-1].session_cost_usd == pytest.approx(total)
    context = agent.context_tokens
    agent.close()
    again = agent_project.open(RecordedEvents(), resume=agent.session_id)
    assert again.cost_usd == pytest.approx(total)  # stored once, under the session the user sees
    assert again.context_tokens == context == own[-1].context_tokens  # the writer's call is not the context in use
    again.close()


async def test_a_background_subagent_that_ended_is_in_the_parents_next_request_until_its_answer_is_read(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # The parent model heard nothing of a background child that ended unless it thought to ask.
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(Reply(text="The port is 8443."),  # the child
                        Reply(tool_calls=[call("agent", op="wait", id="a1")]), Reply(text="It says 8443."),  # parent
                        Reply(text="Anything else?"))
    agent = agent_project.open(RecordedEvents())
    agent_project.services.tasks.create(agent.session_id, "Find the port")
    registry = agent.context.services["subagents"]
    record = await registry.start("T1", "find the port", (), background=True)
    await registry.wait(record.id, timeout_s=10)
    assert await agent.run_turn("what did it find?") == ev.TURN_DONE
    first = openai_server.requests[1]
    block = "\n".join(str(m.get("content")) for m in first["messages"] if m["role"] != "tool")
    assert "a1 on T1 [finished, background]" in block and "answer not read yet (agent op=wait id=a1)" in block
    answer = [m["content"] for m in openai_server.requests[2]["messages"] if m["role"] == "tool"][-1]
    assert "The port is 8443." in answer
    assert await agent.run_turn("thanks") == ev.TURN_DONE
    later = "\n".join(str(m.get("content")) for m in openai_server.requests[3]["messages"])
    assert "answer not read yet" not in later


async def test_a_resumed_session_does_not_show_a_subagent_of_a_killed_process_as_running(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # A mimo killed while a background child worked left its task noted "subagent a1 running" for good.
    agent_project.use_server(openai_server.base_url)
    agent = agent_project.open(RecordedEvents())
    tasks = agent_project.services.tasks
    tasks.create(agent.session_id, "Survey")
    tasks.create(agent.session_id, "Other")
    tasks.assign(agent.session_id, "T1", "subagent a1 running")  # what the killed process left behind
    tasks.assign(agent.session_id, "T2", "subagent a2 finished, task not marked done")
    session = agent.session_id
    agent.close()
    again = agent_project.open(RecordedEvents(), resume=session)
    t1, t2 = agent_project.services.tasks.list(session)
    assert t1.note == "subagent a1 stopped when its mimo process ended"
    assert t2.note == "subagent a2 finished, task not marked done"
    again.close()
