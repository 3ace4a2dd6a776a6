"""Distill over a real session store: a workflow planted three times is proposed, one planted once is not, every
produced SKILL.md parses, approved files are committed as `distill`, and a distilled command runs with its args."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.maintenance.distill import COMMAND, SKILL, SUBAGENT, DistillSettings, adopt, plan_distill
from mimo_tui.project import Project
from mimo_tui.sessions import SessionStore
from mimo_tui.skills.catalogue import load_catalogue, skill_problems
from mimo_tui.skills.front_matter import parse_skill_file
from mimo_tui.skills.user_commands import find_command
from mimo_tui.store import SandboxError, Writer


def call(name: str, **args: str) -> dict:
    return {"id": f"c-{name}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def add_session(sessions: SessionStore, request: str, calls: list[dict]) -> str:
    session = sessions.create("offline/agent")
    sessions.add_message(session.id, 1, "user", request)
    for n, c in enumerate(calls):
        sessions.add_message(session.id, 1, "assistant", "", tool_calls=[c])
        sessions.add_message(session.id, 1, "tool", "ok", tool_call_id=c["id"], tool_name=c["function"]["name"])
    sessions.add_message(session.id, 1, "assistant", "Done.")
    return session.id


BUMP = [call("read_file", path="pyproject.toml"), call("edit_file", path="pyproject.toml"),
        call("edit_file", path="CHANGELOG.md"), call("bash", command="git commit -am bump")]
TRIAGE = [call("bash", command="pytest -q"), call("read_file", path="src/a.py"), call("grep", pattern="def "),
          call("edit_file", path="src/a.py"), call("bash", command="pytest -q tests/test_a.py"),
          call("bash", command="ruff check src"), call("bash", command="git diff")]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return Project.open(root)


@pytest.fixture
def sessions(project: Project):
    store = SessionStore(project.workspace.state_db)
    yield store
    store.close()


def plant(sessions: SessionStore) -> None:
    for version in ("1.4.0", "1.5.0", "2.0.1"):
        add_session(sessions, f"Bump the version to {version} and update the changelog", BUMP)
    for test in ("test_parser", "test_cache"):
        add_session(sessions, f"The CI run is red: triage the failing {test}, fix it and check lint", TRIAGE)
    add_session(sessions, "Rename the logger module to logging_setup and fix its imports",
                [call("glob", pattern="**/*.py"), call("edit_file", path="src/log.py"), call("bash", command="mv a b")])
    add_session(sessions, "What does this project do?", [call("read_file", path="README.md")])


def test_distill_proposes_repeated_workflows_in_their_smallest_form_and_ignores_one_offs(project, sessions) -> None:
    plant(sessions)
    plan = plan_distill(sessions, project.root, DistillSettings())
    kinds = {p.kind: p for p in plan.proposals}
    assert len(plan.proposals) == 2, plan.text()
    bump = kinds[COMMAND]
    assert bump.times == 3 and bump.relpath == f"commands/{bump.name}.md" and "$ARGUMENTS" in bump.text
    assert kinds[SUBAGENT].times == 2 and kinds[SUBAGENT].relpath.startswith("agents/")
    assert "Rename the logger" not in plan.text() and "What does this project do" not in plan.text()


def test_a_workflow_seen_once_is_never_proposed_and_nothing_is_a_valid_result(project, sessions, monkeypatch,
                                                                               capsys) -> None:
    add_session(sessions, "Bump the version to 1.4.0 and update the changelog", BUMP)
    assert plan_distill(sessions, project.root, DistillSettings()).proposals == []
    monkeypatch.chdir(project.root)
    head = project.store.head().sha
    assert main(["distill", "--yes"]) == 0
    assert "nothing to distill" in capsys.readouterr().out and project.store.head().sha == head


def test_every_produced_skill_parses_and_is_a_valid_skill(project, sessions) -> None:
    for _ in range(3):  # the same request each time: nothing varies, so a skill, not a command
        add_session(sessions, "Write the release notes draft from the git log", [
            call("bash", command="git log --oneline"), call("read_file", path="docs/notes.md"),
            call("write_file", path="docs/release.md")])
    plan = plan_distill(sessions, project.root, DistillSettings())
    skills = [p for p in plan.proposals if p.kind == SKILL]
    assert skills, plan.text()
    for proposal in plan.proposals:
        parsed = parse_skill_file(proposal.text)  # commands and subagents carry front matter too
        assert parsed.fields["description"]
    for proposal in skills:
        adopt(project.store, proposal)
        folder = proposal.relpath.split("/")[1]
        assert skill_problems(parse_skill_file(proposal.text).fields, folder) == []
    catalogue = load_catalogue([("project", project.root / ".mimo" / "skills")])
    assert sorted(catalogue.names()) == sorted(p.name for p in skills) and not catalogue.problems


def test_approved_proposals_are_committed_as_distill_and_existing_ones_are_not_proposed_again(project, sessions) -> None:
    plant(sessions)
    plan = plan_distill(sessions, project.root, DistillSettings())
    for proposal in plan.proposals:
        info = adopt(project.store, proposal)
        assert info is not None and project.store.head().author == "distill"
    again = plan_distill(sessions, project.root, DistillSettings())
    assert again.proposals == [] and len(again.skipped) == 2


def test_the_distill_role_writes_only_skills_commands_and_agents(project) -> None:
    for target in ("MEMORY.md", "config.toml", "sessions/x/checkpoint.md"):
        with pytest.raises(SandboxError):
            project.store.write(target, "x\n", Writer("distill"))


def test_a_distilled_command_expands_with_its_arguments(project, sessions) -> None:
    plant(sessions)
    bump = next(p for p in plan_distill(sessions, project.root, DistillSettings()).proposals if p.kind == COMMAND)
    adopt(project.store, bump)
    command = find_command(project.root, f"/{bump.name}")
    assert command is not None
    sent = command.expand("3.1.0")
    assert sent.startswith("Bump the version to 3.1.0 and update the changelog")
    assert "$ARGUMENTS" not in sent and "1.4.0" not in sent.split("\n")[0]


def test_mimo_distill_asks_per_item_and_adds_only_what_is_approved(project, sessions, monkeypatch, capsys) -> None:
    plant(sessions)
    monkeypatch.chdir(project.root)
    answers = iter(["y", "n"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert main(["distill"]) == 0
    out = capsys.readouterr().out
    assert "1 of 2 proposal(s) added" in out
    assert len(list((project.root / ".mimo").glob("commands/*.md"))) + len(list((project.root / ".mimo").glob("agents/*.md"))) == 1
    assert main(["distill", "--dry-run"]) == 0
    assert "1 proposal(s)" in capsys.readouterr().out
