"""Compose mode against the local server: Tab's cycle, a goal becomes a spec and a plan, worked task by task."""

from __future__ import annotations

import json

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev
from mimo_tui.agent.compose import ComposeDriver, run_user_request
from mimo_tui.agent.modes import MODES, next_mode
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def task(**args: str) -> ToolCall:
    return ToolCall("task", json.dumps(args))


def progress(task_id: str, outcome: str) -> ToolCall:
    return task(op="progress", id=task_id, intent=f"do {task_id}", files="src/app.py", commands="none", outcome=outcome)


def test_tab_cycles_build_plan_compose() -> None:
    assert MODES == ("build", "plan", "compose")
    assert [next_mode("build"), next_mode("plan"), next_mode("compose")] == ["plan", "compose", "build"]


async def test_compose_goal_to_spec_plan_and_tasks_done(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    spec = json.dumps({"path": ".mimo/plans/spec.md", "content": "# Spec\n\nwelcome() replaces greet().\n"})
    edit = json.dumps({"path": "src/app.py", "old_text": "def greet", "new_text": "def welcome"})
    openai_server.queue(
        # planning turn: the spec and two tasks
        Reply(tool_calls=[ToolCall("write_file", spec), task(op="create", title="Rename greet"),
                          task(op="create", title="Document it")]),
        Reply(text="Spec and plan written."),
        # T1: start, edit, progress, done
        Reply(tool_calls=[task(op="start", id="T1"), ToolCall("edit_file", edit)]),
        Reply(tool_calls=[progress("T1", "greet is now welcome"), task(op="done", id="T1")]),
        Reply(text="T1 done."),
        # T2: done without a log is refused; the model writes it and finishes
        Reply(tool_calls=[task(op="start", id="T2"), task(op="done", id="T2")]),
        Reply(tool_calls=[progress("T2", "README mentions welcome"), task(op="done", id="T2")]),
        Reply(text="T2 done."),
    )
    events = RecordedEvents(answers=["always", "always"])
    agent = agent_project.open(events, mode="compose")
    assert agent.mode == "compose"
    status = await run_user_request(agent, "rename greet to welcome and document it", agent_project.services.tasks)
    assert status == ev.TURN_DONE
    ended = events.of(wev.ComposeEnded)[-1]
    assert (ended.outcome, ended.done) == ("done", ("T1", "T2"))
    steps = [(s.phase, s.task_id) for s in events.of(wev.ComposeStep)]
    assert steps == [("spec", ""), ("task", "T1"), ("task", "T2")]
    assert "def welcome" in (agent_project.root / "src" / "app.py").read_text()
    assert (agent_project.root / ".mimo" / "plans" / "spec.md").exists()
    # every turn's request carries compose mode's method; the user's goal is in the first one verbatim
    first_user = [m for m in openai_server.requests[0]["messages"] if m["role"] == "user"][-1]["content"]
    assert "rename greet to welcome and document it" in first_user
    assert all("Mode: compose." in r["messages"][1]["content"] for r in openai_server.requests)
    t2_turn = [m for m in openai_server.requests[5]["messages"] if m["role"] == "user"][-1]["content"]
    assert t2_turn.startswith("Next task of the plan: T2 Document it")
    refused = [f for f in events.of(ev.ToolCallFinished) if f.status == "error"]
    assert len(refused) == 1 and "cannot be marked done yet" in refused[0].content
    tasks = agent_project.services.tasks
    assert "README mentions welcome" in tasks.progress_text(agent.session_id, "T2")


async def test_compose_stops_when_a_task_is_blocked(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[task(op="create", title="Deploy")]),
        Reply(text="Planned."),
        Reply(tool_calls=[task(op="start", id="T1"), task(op="block", id="T1", reason="needs the prod password")]),
        Reply(text="Blocked: I need the prod password."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events, mode="compose")
    outcome = await ComposeDriver(agent, agent_project.services.tasks).run("deploy it")
    assert outcome == wev.BLOCKED
    assert "T1: needs the prod password" in events.of(wev.ComposeEnded)[-1].reason
    assert len(openai_server.requests) == 4


async def test_compose_does_not_spin_on_a_task_the_model_ignores(agent_project: AgentProject,
                                                                openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(Reply(tool_calls=[task(op="create", title="Write tests")]), Reply(text="Planned."),
                        Reply(text="Thinking about it."), Reply(text="Still thinking."))
    events = RecordedEvents()
    agent = agent_project.open(events, mode="compose")
    outcome = await ComposeDriver(agent, agent_project.services.tasks).run("add tests")
    assert outcome == wev.BLOCKED and "T1 is still open after 2 turns" in events.of(wev.ComposeEnded)[-1].reason
    assert len(openai_server.requests) == 4


async def test_system_prompt_is_byte_stable_across_turns_modes_and_memory(agent_project: AgentProject,
                                                                         openai_server: LocalOpenAIServer) -> None:
    """Providers cache the prompt prefix: the first message never changes; memory and mode ride after it."""
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("memory", json.dumps({"op": "append", "text": "The build uses make."}))]),
        Reply(text="Noted."),
        Reply(tool_calls=[task(op="create", title="Write the spec")]),
        Reply(text="Planned."),
        Reply(text="Plan mode now."),
    )
    agent = agent_project.open(RecordedEvents())
    await agent.run_turn("remember the build")
    agent.set_mode("compose")
    await agent.run_turn("plan it")
    agent.set_mode("plan")
    await agent.run_turn("look only")
    firsts = {r["messages"][0]["content"] for r in openai_server.requests}
    assert len(firsts) == 1 and all(r["messages"][0]["role"] == "system" for r in openai_server.requests)
    stable = firsts.pop()
    assert "The build uses make." not in stable and "Mode:" not in stable and len(stable) < 2000
    seconds = [r["messages"][1]["content"] for r in openai_server.requests]
    assert "The build uses make." in seconds[-1] and "The build uses make." not in seconds[0]
    assert "Mode: compose." in seconds[2] and "Mode: plan." in seconds[-1]


def test_offline_model_runs_a_compose_run_headless(agent_project: AgentProject, capsys, monkeypatch) -> None:
    from mimo_tui.cli import main

    monkeypatch.chdir(agent_project.root)
    code = main(["run", "--json", "--mode", "compose", "add a changelog"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and record["mode"] == "compose"
    assert record["work"][0] == "▣ compose: spec and plan" and record["work"][-1].startswith("▣ compose done")
    assert (agent_project.root / ".mimo" / "plans" / "spec.md").read_text().count("add a changelog") == 1
    assert main(["memory", "check"]) == 0


async def test_a_new_goal_after_finished_work_is_planned_afresh(agent_project: AgentProject,
                                                              openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[task(op="create", title="New work")]), Reply(text="Planned."),
        Reply(tool_calls=[progress("T2", "new work done"), task(op="done", id="T2")]), Reply(text="Done."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events, mode="compose")
    tasks = agent_project.services.tasks
    tasks.create(agent.session_id, "Old work")
    tasks.done(agent.session_id, "T1")
    outcome = await ComposeDriver(agent, tasks).run("do the new thing")
    assert outcome == wev.ALL_DONE
    assert [(s.phase, s.task_id) for s in events.of(wev.ComposeStep)] == [("spec", ""), ("task", "T2")]
    assert "Compose goal: do the new thing" in openai_server.requests[0]["messages"][-1]["content"]


async def test_the_compose_turn_cap_comes_from_config(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.write_config(f'[compose]\nmax_turns = 2\n\n[models.test]\nmodel = "openai/test"\n'
                               f'api_base = "{openai_server.base_url}"\n')
    openai_server.queue(
        Reply(tool_calls=[task(op="create", title="One"), task(op="create", title="Two"), task(op="create", title="Three")]),
        Reply(text="Planned."),
        Reply(tool_calls=[task(op="start", id="T1"), progress("T1", "one is done"), task(op="done", id="T1")]),
        Reply(text="T1 done."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events, mode="compose")
    await run_user_request(agent, "three small steps", agent_project.services.tasks)
    ended = events.of(wev.ComposeEnded)[-1]
    assert (ended.outcome, ended.done) == (wev.TURN_CAP, ("T1",))
    assert "after 2 turns" in ended.reason and len(openai_server.requests) == 4
