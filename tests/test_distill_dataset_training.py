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


def approve_all(project: Project) -> None:
    for item, decision in zip(read_draft(project.store, "release-notes"), ("train", "train", "val", "val", "test"),
                              strict=True):
        review_item(project.store, "release-notes", item.id, decision)


def services_for(project: Project):
    from mimo_tui.services import Services

    services = Services()
    services.use_project(project)
    return services


def test_the_nightly_schedule_is_off_by_default_needs_a_cap_and_only_stages(drafted: Project) -> None:
    from mimo_tui.services.maintenance import scheduled_training

    approve_all(drafted)
    assert scheduled_training(services_for(drafted)) is None  # off by default
    config = drafted.root / ".mimo" / "config.toml"
    config.write_text("[trainer]\nmax_usd = 0\n\n[distill]\ntrain_nightly = true\n", encoding="utf-8")
    refused = scheduled_training(services_for(Project.open(drafted.root)))
    assert isinstance(refused, str) and "needs a hard cap" in refused
    config.write_text("[trainer]\nmax_usd = 0.25\nepochs = 1\n\n[distill]\ntrain_nightly = true\n", encoding="utf-8")
    project = Project.open(drafted.root)
    live = drafted.root / ".mimo" / "skills" / "release-notes" / "SKILL.md"
    before = live.read_bytes()
    started = scheduled_training(services_for(project))
    assert isinstance(started, list) and [p.skill for p in started] == ["release-notes"]
    assert started[0].popen.wait(timeout=120) == 0, started[0].log_tail(20)
    log = started[0].log_path.read_text(encoding="utf-8")
    assert "dollar cap: $0.25" in log and "estimate" in log.lower()
    runs = [p for p in project.workspace.runs_dir.iterdir() if (p / "proposal.json").is_file()]
    assert len(runs) == 1 and live.read_bytes() == before
    assert scheduled_training(services_for(project)) is None  # ran today: not due until tomorrow
    import time

    assert scheduled_training(services_for(project), now=time.time() + 2 * 86400) == []  # dataset unchanged since


def test_scheduled_distill_runs_when_on_and_due_and_not_again_the_same_month(drafted: Project) -> None:
    import time

    from mimo_tui.services.maintenance import scheduled_distill

    assert scheduled_distill(services_for(drafted)) is None  # off by default
    (drafted.root / ".mimo" / "config.toml").write_text("[distill]\nauto = true\n", encoding="utf-8")
    project = Project.open(drafted.root)
    plan = scheduled_distill(services_for(project))
    assert plan is not None and plan.requests == 5
    assert scheduled_distill(services_for(project)) is None
    assert scheduled_distill(services_for(project), now=time.time() + 31 * 86400) is not None


def test_the_skills_with_a_draft_are_listed_with_their_pending_count(drafted: Project) -> None:
    from mimo_tui.maintenance.distill.dataset_readiness import skills_with_drafts, training_problem

    assert skills_with_drafts(drafted.store) == [("release-notes", 5)]
    items = read_draft(drafted.store, "release-notes")
    for item in items:
        review_item(drafted.store, "release-notes", item.id, "train")
    assert skills_with_drafts(drafted.store) == [("release-notes", 0)]
    assert "no approved item in val" in (training_problem(drafted.store, "release-notes") or "")
