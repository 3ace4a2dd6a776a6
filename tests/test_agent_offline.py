"""The offline default `offline/agent` through `mimo run`: it really drives the loop and answers from tool results."""

from __future__ import annotations

import json

import pytest

from mimo_tui.cli import main
from mimo_tui.project import Project
from mimo_tui.tasks import TaskStore
from tests.fixtures.agent_project import AgentProject


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_list_files_offline_headless(agent_project: AgentProject, capsys, monkeypatch) -> None:
    monkeypatch.chdir(agent_project.root)
    (agent_project.root / "notes-only-here.txt").write_text("x")
    code, out = run_cli(capsys, "run", "list the files here")
    assert code == 0
    assert "offline/agent (offline)" in out and "▸ list_dir" in out
    assert "`notes-only-here.txt`" in out and "`src/`" in out
    code, out = run_cli(capsys, "run", "--json", "list the files here")
    record = json.loads(out.strip().splitlines()[-1])
    assert record["offline"] is True and record["status"] == "done"
    assert record["tool_calls"][0]["tool"] == "list_dir" and "notes-only-here.txt" in record["tool_calls"][0]["result"]
    assert (agent_project.root / ".mimo" / "state.db").exists()
    code, out = run_cli(capsys, "sessions")
    assert out.count("list the files here") == 2


def test_demo_tour_uses_tasks_memory_and_an_asked_command(agent_project: AgentProject, capsys, monkeypatch) -> None:
    monkeypatch.chdir(agent_project.root)
    code, out = run_cli(capsys, "run", "--json", "--yes", "hello there")
    record = json.loads(out.strip().splitlines()[-1])
    tools = [(c["tool"], c["status"]) for c in record["tool_calls"]]
    assert tools == [("task", "ok"), ("task", "ok"), ("list_dir", "ok"), ("bash", "ok"), ("memory", "ok"), ("task", "ok"),
                     ("task", "ok")]
    assert record["permission_asks"][0]["tool"] == "bash"
    # the file count in the answer is the one the real command printed (README.md, src/app.py, .env)
    assert "3 files in all" in record["text"]
    project = Project.open(agent_project.root)
    tasks = TaskStore(project.workspace.state_db, project.store).list(record["session_id"])
    assert [(t.id, t.status) for t in tasks] == [("T1", "done")]
    notes = project.store.read(f"sessions/{record['session_id']}/notes.md").text
    assert "shell count gave 3 files in all" in notes
    # the tour wrote a real progress log before closing its task, and every file it made passes the check
    progress = project.store.read(f"sessions/{record['session_id']}/tasks/T1/progress.md").text
    assert "3 files in all" in progress.split("## Outcome and discoveries", 1)[1]
    assert "progress log written ok; done ok" in record["text"]
    code, out = run_cli(capsys, "memory", "check")
    assert code == 0, out
    code, out = run_cli(capsys, "run", "--json", "hello there")
    denied = json.loads(out.strip().splitlines()[-1])
    assert ("bash", "denied") in [(c["tool"], c["status"]) for c in denied["tool_calls"]]
    assert "not counted (the command was not allowed)" in denied["text"]


def test_offline_agent_acts_on_reads_edits_and_free_text(agent_project: AgentProject, capsys, monkeypatch) -> None:
    monkeypatch.chdir(agent_project.root)
    code, out = run_cli(capsys, "run", "read README.md")
    assert "# Demo project" in out
    code, out = run_cli(capsys, "run", "--yes", "replace 'def greet' with 'def welcome' in src/app.py")
    assert "Done: edited src/app.py" in out
    assert "def welcome" in (agent_project.root / "src" / "app.py").read_text()
    code, out = run_cli(capsys, "run", "what is the meaning of this code?")
    assert code == 0 and "can't act on free text" in out
    code, out = run_cli(capsys, "run", "--mode", "plan", "--yes", "replace 'def welcome' with 'def x' in src/app.py")
    assert "plan mode is read-only" in out


def test_prompt_from_stdin_and_config_errors_are_clear(agent_project: AgentProject, capsys, monkeypatch) -> None:
    import io

    monkeypatch.chdir(agent_project.root)
    monkeypatch.setattr("sys.stdin", io.StringIO("list the files here"))
    code, out = run_cli(capsys, "run", "-")
    assert code == 0 and "`README.md`" in out
    agent_project.write_config('[[permissions.rules]]\ntool = "bash"\naction = "sometimes"\n')
    code = main(["run", "list the files here"])
    captured = capsys.readouterr()
    assert code == 2 and "permissions.rules entry 1: action must be one of allow, ask, deny" in captured.err
    assert "Traceback" not in captured.err


def test_headless_run_on_a_model_without_credentials_says_what_is_missing_at_once(
        agent_project: AgentProject, capsys, monkeypatch) -> None:
    import time

    monkeypatch.chdir(agent_project.root)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (agent_project.root / ".mimo").mkdir(exist_ok=True)
    (agent_project.root / ".mimo" / "config.toml").write_text('[model]\ndefault = "openai/gpt-4o-mini"\n')
    started = time.monotonic()
    code, out = run_cli(capsys, "run", "--json", "hello there")
    assert time.monotonic() - started < 5  # no provider round trips, retries or litellm import
    record = json.loads(out.strip().splitlines()[-1])
    assert record["status"] == "error"
    [error] = record["errors"]
    assert "OPENAI_API_KEY" in error["message"] and '[models."openai/gpt-4o-mini"]' in error["message"]
