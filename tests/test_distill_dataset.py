"""A skill's starter dataset drafted from sessions stays "pending review": only items the user approved, one by one,
reach train/val/test; a dropped or pending item never does, nor an answer the user rejected."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.maintenance.distill.dataset_draft import PENDING, draft_dataset, read_draft, review_item
from mimo_tui.project import Project
from mimo_tui.sessions import SessionStore

SKILL = ('---\nname: release-notes\ndescription: "Write release notes from the git log"\n---\n# release-notes\n\n'
         "When to use:\n- Write the release notes for version 1.2\n")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    project = Project.open(root)
    project.store.write("skills/release-notes/SKILL.md", SKILL)
    sessions = SessionStore(project.workspace.state_db)
    for version, answer, reply in (("1.3", "Notes for 1.3: faster parser.", "thanks"),
                                   ("1.4", "Notes for 1.4: new cache.", "No, that's wrong: the cache came in 1.5"),
                                   ("2.0", "Notes for 2.0: Python 3.12 only.", None)):
        session = sessions.create("offline/agent")
        sessions.add_message(session.id, 1, "user", f"Write the release notes for version {version}")
        sessions.add_message(session.id, 1, "assistant", answer)
        if reply:
            sessions.add_message(session.id, 2, "user", reply)
    other = sessions.create("offline/agent")
    sessions.add_message(other.id, 1, "user", "Why is the build slow?")
    sessions.add_message(other.id, 1, "assistant", "Because of the docs step.")
    sessions.close()
    return project


def split_ids(project: Project, split: str) -> list[str]:
    text = project.store.read(f"skills/release-notes/eval/{split}.jsonl").text or ""
    return [json.loads(line)["id"] for line in text.splitlines() if line.strip()]


def test_the_draft_holds_accepted_answers_only_and_nothing_reaches_a_split_unapproved(project: Project) -> None:
    sessions = SessionStore(project.workspace.state_db)
    items = draft_dataset(project.store, sessions, "release-notes")
    sessions.close()
    assert sorted(i.expected for i in items) == ["Notes for 1.3: faster parser.", "Notes for 2.0: Python 3.12 only."]
    assert all(i.status == PENDING for i in read_draft(project.store, "release-notes"))
    assert not any((project.root / ".mimo" / "skills" / "release-notes" / "eval" / f"{s}.jsonl").exists()
                   for s in ("train", "val", "test"))
    first, second = items
    review_item(project.store, "release-notes", first.id, "train", expected="Notes for 1.3: a faster parser.")
    review_item(project.store, "release-notes", second.id, "drop")
    assert split_ids(project, "train") == [f"release-notes-{first.id}"] and split_ids(project, "val") == []
    train = json.loads((project.store.read("skills/release-notes/eval/train.jsonl").text or "").splitlines()[0])
    assert train["grader"] == {"type": "normalized", "reference": "Notes for 1.3: a faster parser."}
    assert project.store.head().author == "distill"


def test_reviewing_from_the_cli_asks_item_by_item(project: Project, monkeypatch, capsys) -> None:
    monkeypatch.chdir(project.root)
    assert main(["distill", "--draft-dataset", "release-notes"]) == 0
    answers = iter(["v", ""])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    assert main(["distill", "--review-dataset", "release-notes"]) == 0
    assert len(split_ids(project, "val")) == 1 and split_ids(project, "train") == []
    assert [i.status for i in read_draft(project.store, "release-notes")].count(PENDING) == 1
