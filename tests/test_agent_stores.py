"""Session, task and skill stores on real SQLite and files; permission rules and their config shape."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mimo_tui.agent.loop import messages_for_model
from mimo_tui.agent.permissions import PermissionConfigError, PermissionPolicy, PermissionRule, config_with_rule
from mimo_tui.project import Project
from mimo_tui.sessions import SessionStore
from mimo_tui.skills import load_catalogue
from mimo_tui.tasks import TaskError, TaskStore


class ListSink:
    """A history sink that keeps what it was given."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, int, str, str, str]] = []

    def add(self, session_id: str, message_id: int, role: str, kind: str, text: str) -> None:
        self.entries.append((session_id, message_id, role, kind, text))


def test_sessions_store_messages_usage_and_history(tmp_path: Path) -> None:
    sink = ListSink()
    store = SessionStore(tmp_path / "state.db", sink)
    session = store.create("openai/test")
    store.add_message(session.id, 1, "user", "find the bug")
    begun = store.begin_message(session.id, 1)
    store.save_partial(begun, "half")
    assert store.messages(session.id)[-1].status == "interrupted"
    calls = [{"id": "c1", "type": "function", "function": {"name": "grep", "arguments": '{"pattern": "bug"}'}}]
    store.finish_message(begun, "looking", tool_calls=calls)
    store.add_message(session.id, 1, "tool", "boom", tool_call_id="c1", tool_name="grep", is_error=True)
    kinds = [entry[3] for entry in sink.entries]
    assert kinds == ["user", "assistant", "tool_input", "error"]
    assert store.find(session.id[:12]).message_count == 3
    assert store.search_messages("BUG")[0].content == "find the bug"
    with pytest.raises(Exception, match="no session"):
        store.find("nope")


def test_unanswered_tool_calls_get_a_result_on_resume(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "state.db")
    session = store.create("m")
    store.add_message(session.id, 1, "user", "go")
    calls = [{"id": "c9", "type": "function", "function": {"name": "bash", "arguments": "{}"}}]
    store.add_message(session.id, 1, "assistant", "", tool_calls=calls)
    chat = messages_for_model(store.messages(session.id))
    assert chat[-1] == {"role": "tool", "tool_call_id": "c9", "content": "interrupted: the tool did not run"}


def test_task_tree_operations_and_progress_files(tmp_path: Path) -> None:
    project = Project.open(tmp_path)
    tasks = TaskStore(project.workspace.state_db, project.store)
    seen = []
    tasks.subscribe(lambda e: seen.append((e.task_id, e.operation)))
    t1 = tasks.create("s1", "Build the parser")
    t11 = tasks.create("s1", "Tokenizer", parent="T1")
    t12 = tasks.create("s1", "Grammar", parent="t1")
    assert (t1.id, t11.id, t12.id) == ("T1", "T1.1", "T1.2")
    tasks.start("s1", "T1.1")
    tasks.start("s1", "T1.2")
    assert tasks.focus("s1").id == "T1.2"
    assert sum(t.focus for t in tasks.list("s1")) == 1
    with pytest.raises(TaskError, match="unfinished subtasks"):
        tasks.done("s1", "T1")
    tasks.block("s1", "T1.1", "waiting for spec")
    tasks.unblock("s1", "T1.1")
    tasks.done("s1", "T1.1")
    tasks.abandon("s1", "T1.2", "not needed")
    tasks.rename("s1", "T1", "Build the new parser")
    assert tasks.done("s1", "T1").status == "done"
    with pytest.raises(TaskError, match="not a task id"):
        tasks.get("s1", "7")
    assert [t.id for t in tasks.list("s1")] == ["T1", "T1.1", "T1.2"]
    assert tasks.list("s2") == []
    progress = project.store.read("sessions/s1/tasks/T1.1/progress.md")
    assert progress.exists and "# T1.1 Tokenizer" in progress.text
    assert ("T1", "rename") in seen and len(seen) == 11


def test_skill_catalogue_reports_malformed_front_matter(tmp_path: Path) -> None:
    root = tmp_path / "skills"
    good = root / "write-tests"
    good.mkdir(parents=True)
    (good / "SKILL.md").write_text("---\nname: write-tests\ndescription: >\n  How to write\n  good tests.\n---\n# Body\nDo it.\n")
    bad = root / "broken"
    bad.mkdir()
    (bad / "SKILL.md").write_text("---\nname broken\n---\nbody\n")
    wrong = root / "other"
    wrong.mkdir()
    (wrong / "SKILL.md").write_text("---\nname: not-other\ndescription: x\n---\n")
    catalogue = load_catalogue([("project", root)])
    assert catalogue.names() == ["write-tests"]
    assert catalogue.get("write-tests").description == "How to write good tests."
    assert catalogue.get("write-tests").body() == "# Body\nDo it.\n"
    messages = sorted(str(p) for p in catalogue.problems)
    assert "line 2" in messages[0] and "differs from its folder" in messages[1]


def test_permission_rules_last_match_wins_and_config_shape() -> None:
    policy = PermissionPolicy.from_config([
        {"tool": "bash", "pattern": "git *", "action": "allow"},
        {"tool": "bash", "pattern": "git push*", "action": "deny"},
        {"tool": "*", "pattern": "secrets/*", "action": "deny"},
    ])
    assert policy.decide("bash", "git status --short") == "allow"
    assert policy.decide("bash", "git push origin") == "deny"
    assert policy.decide("bash", "rm -rf /") == "ask"
    assert policy.decide("read_file", "src/a.py") == "allow"
    assert policy.decide("read_file", ".env") == "ask"
    assert policy.decide("read_file", "secrets/key") == "deny"
    with pytest.raises(PermissionConfigError, match="entry 1: action"):
        PermissionPolicy.from_config([{"tool": "bash", "action": "maybe"}])
    inline = '[permissions]\nrules = [{tool = "bash", pattern = "ls", action = "allow"}]\n'
    text = config_with_rule(inline, PermissionRule("bash", "make test", "allow"))
    assert [r["pattern"] for r in tomllib.loads(text)["permissions"]["rules"]] == ["ls", "make test"]
    appended = config_with_rule("# mine\n[model]\ndefault = \"x\"\n", PermissionRule("write_file", "a.txt", "allow"))
    assert appended.startswith("# mine\n") and tomllib.loads(appended)["permissions"]["rules"][0]["pattern"] == "a.txt"
