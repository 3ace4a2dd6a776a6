"""Progress logs: files mimo creates pass `mimo memory check`, and a task is done only after its log is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.memory.templates import PROJECT_MEMORY, checkpoint_template, notes_template
from mimo_tui.memory.templates import progress_template as empty_progress
from mimo_tui.memory.validators import validate_file, validate_repo
from mimo_tui.project import Project
from mimo_tui.store import Writer
from mimo_tui.tasks import ProgressLog, TaskError, TaskStore
from mimo_tui.tasks.progress import unwritten_sections
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def test_progress_files_mimo_creates_pass_the_memory_check(tmp_path: Path) -> None:
    project = Project.open(tmp_path)
    tasks = TaskStore(project.workspace.state_db, project.store)
    tasks.create("s1", "Build the parser")
    tasks.create("s1", "Tokenizer", parent="T1")
    tasks.create("s1", "Grammar", parent="T1")
    tasks.create("s1", "Docs")
    created = [p for p in (project.workspace.mimo_dir / "sessions").rglob("progress.md")]
    assert len(created) == 4
    assert validate_repo(project.workspace.mimo_dir) == {}
    text = tasks.progress_text("s1", "T1.2")
    assert "T1.2: Grammar (subtask of T1)" in text
    tasks.close()


def test_every_template_mimo_ships_passes_its_own_validator() -> None:
    made = {
        "MEMORY.md": PROJECT_MEMORY,
        "sessions/s1/checkpoint.md": checkpoint_template("s1"),
        "sessions/s1/notes.md": notes_template("s1"),
        "sessions/s1/tasks/T1/progress.md": empty_progress("T1", "2026-12-05T06:00:00+00:00"),
    }
    for relpath, text in made.items():
        assert validate_file(relpath, text) == [], relpath


def test_done_is_refused_until_the_progress_log_is_written(tmp_path: Path) -> None:
    project = Project.open(tmp_path)
    tasks = TaskStore(project.workspace.state_db, project.store)
    tasks.create("s1", "Fix the bug")
    with pytest.raises(TaskError, match="op=progress, id=T1") as refused:
        tasks.done("s1", "T1", require_progress=True)
    assert "'Outcome and discoveries'" in str(refused.value)
    assert tasks.get("s1", "T1").status == "open"
    tasks.write_progress("s1", "T1", ProgressLog(intent="fix it", files="src/app.py", commands="`pytest -q`: 3 passed",
                                               outcome="fixed the off-by-one"), Writer("agent", session_id="s1"))
    assert tasks.done("s1", "T1", require_progress=True).status == "done"
    text = tasks.progress_text("s1", "T1")
    assert unwritten_sections(text) == [] and "`pytest -q`: 3 passed" in text
    assert validate_repo(project.workspace.mimo_dir) == {}
    # The user's own "done" (task pane) is not held up by the agent's contract.
    tasks.create("s1", "Other")
    assert tasks.done("s1", "T2").status == "done"
    tasks.close()


def test_a_subagent_may_write_only_its_own_task_progress(tmp_path: Path) -> None:
    project = Project.open(tmp_path)
    tasks = TaskStore(project.workspace.state_db, project.store)
    tasks.create("s1", "One")
    tasks.create("s1", "Two")
    writer = Writer("subagent", session_id="s1", task_id="T1")
    tasks.write_progress("s1", "T1", ProgressLog(outcome="ok"), writer)
    with pytest.raises(TaskError, match="outside its write sandbox"):
        tasks.write_progress("s1", "T2", ProgressLog(outcome="not mine"), writer)
    assert "not mine" not in tasks.progress_text("s1", "T2")
    tasks.close()


async def test_the_model_is_told_to_write_progress_before_done(agent_project: AgentProject,
                                                               openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    progress = {"op": "progress", "id": "T1", "intent": "rename greet", "files": "src/app.py",
                "commands": "none", "outcome": "greet renamed"}
    openai_server.queue(
        Reply(tool_calls=[ToolCall("task", json.dumps({"op": "create", "title": "Rename greet"}))]),
        Reply(tool_calls=[ToolCall("task", json.dumps({"op": "done", "id": "T1"}))]),
        Reply(tool_calls=[ToolCall("task", json.dumps(progress)), ToolCall("task", json.dumps({"op": "done", "id": "T1"}))]),
        Reply(text="T1 is done."),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("rename greet and track it") == ev.TURN_DONE
    results = [(f.status, f.content) for f in events.of(ev.ToolCallFinished)]
    assert results[1][0] == "error" and "op=progress, id=T1" in results[1][1]
    # what the model saw in its next request is that refusal, verbatim
    seen = [m["content"] for m in openai_server.requests[2]["messages"] if m["role"] == "tool"]
    assert "cannot be marked done yet" in seen[-1]
    assert [s for s, _ in results[2:]] == ["ok", "ok"]
    assert agent_project.services.tasks.get(agent.session_id, "T1").status == "done"
    assert validate_repo(agent_project.root / ".mimo") == {}
