"""From a reviewed dataset to a staged run: `mimo distill --train SKILL` refuses while items are pending review,
and once they are decided it runs the gated trainer (offline models, [trainer] max_usd cap) whose result is a
proposal; the live skill stays byte for byte as it was until the user adopts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.maintenance.distill.dataset_draft import draft_dataset, read_draft, review_item
from mimo_tui.project import Project
from mimo_tui.sessions import SessionStore

SKILL = ('---\nname: release-notes\ndescription: "Write release notes from the git log"\n---\n# release-notes\n\n'
         "When to use:\n- Write the release notes for version 1.2\n")
VERSIONS = ("1.3", "1.4", "1.5", "2.0", "2.1")


@pytest.fixture
def drafted(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    project = Project.open(root)
    project.store.write("skills/release-notes/SKILL.md", SKILL)
    (root / ".mimo" / "config.toml").write_text("[trainer]\nmax_usd = 0.5\nepochs = 1\n", encoding="utf-8")
    sessions = SessionStore(project.workspace.state_db)
    for version in VERSIONS:
        session = sessions.create("offline/agent")
        sessions.add_message(session.id, 1, "user", f"Write the release notes for version {version}")
        sessions.add_message(session.id, 1, "assistant", f"Notes for {version}: fixes.")
    draft_dataset(project.store, sessions, "release-notes")
    sessions.close()
    return Project.open(root)


def test_training_is_refused_while_items_are_pending_review(drafted: Project, monkeypatch, capsys) -> None:
    monkeypatch.chdir(drafted.root)
    assert main(["distill", "--train", "release-notes"]) == 2
    assert "5 dataset item(s) still pending review" in capsys.readouterr().err
    assert not drafted.workspace.runs_dir.exists() or not any(drafted.workspace.runs_dir.iterdir())


def test_draft_approve_train_stages_a_proposal_and_leaves_the_live_skill_alone(drafted: Project, monkeypatch,
                                                                               capsys) -> None:
    items = read_draft(drafted.store, "release-notes")
    for item, decision in zip(items, ("train", "train", "val", "val", "drop"), strict=True):
        review_item(drafted.store, "release-notes", item.id, decision)
    live = drafted.root / ".mimo" / "skills" / "release-notes" / "SKILL.md"
    before, head = live.read_bytes(), drafted.store.head().sha
    monkeypatch.chdir(drafted.root)
    main(["distill", "--train", "release-notes", "--yes"])
    out = capsys.readouterr()
    runs = [p for p in drafted.workspace.runs_dir.iterdir() if p.is_dir()]
    assert len(runs) == 1, out
    proposal = json.loads((runs[0] / "proposal.json").read_text(encoding="utf-8"))
    assert proposal and "dollar cap: $0.5" in out.err + out.out
    assert f"mimo skill adopt {runs[0].name}" in out.out
    assert live.read_bytes() == before and drafted.store.head().sha == head
