"""The versioned store against real git repos: commits, conflicts, sandbox, revert, recovery."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from mimo_tui.project import Project
from mimo_tui.store import (
    ConflictError,
    RepoDamaged,
    RevertConflict,
    SandboxError,
    StoreError,
    Writer,
    open_memory_repo,
    repair_memory_repo,
)


@pytest.fixture
def project(git_project: Path) -> Project:
    return Project.open(git_project)


def test_first_open_creates_memory_repo_and_excludes_it(git_project: Path) -> None:
    project = Project.open(git_project)
    mimo = git_project / ".mimo"
    assert (mimo / ".git").is_dir() and (mimo / "MEMORY.md").is_file()
    assert "state.db" in (mimo / ".gitignore").read_text() and "cache/" in (mimo / ".gitignore").read_text()
    assert "/.mimo/" in (git_project / ".git" / "info" / "exclude").read_text().split()
    outer = subprocess.run(["git", "status", "--porcelain"], cwd=git_project, capture_output=True, text=True).stdout
    assert ".mimo" not in outer
    assert project.store.log()[-1].message == "memory: created the memory repo"


def test_write_commits_with_role_as_author(project: Project) -> None:
    info = project.store.write("MEMORY.md", "# Project memory\n\n- port 8421\n", Writer("agent"), "memory: agent noted the port")
    assert info is not None and info.author == "agent" and info.message == "memory: agent noted the port"
    assert project.store.log("MEMORY.md")[0].sha == info.sha
    assert "+- port 8421" in project.store.diff(info.sha)
    assert project.store.write("MEMORY.md", "# Project memory\n\n- port 8421\n") is None


def test_conflicting_write_is_refused_and_file_kept(project: Project) -> None:
    opened = project.store.read("MEMORY.md")
    (project.store.root / "MEMORY.md").write_text("changed elsewhere\n")
    with pytest.raises(ConflictError) as caught:
        project.store.write("MEMORY.md", "my edit\n", base_digest=opened.digest)
    assert caught.value.current.text == "changed elsewhere\n"
    assert (project.store.root / "MEMORY.md").read_text() == "changed elsewhere\n"


def test_sandbox_refuses_writes_outside_a_role(project: Project) -> None:
    writer = Writer("checkpoint-writer", session_id="s1")
    assert project.store.write("sessions/s1/checkpoint.md", "# cp\n", writer) is not None
    with pytest.raises(SandboxError):
        project.store.write("MEMORY.md", "hijack\n", writer)
    with pytest.raises(SandboxError):
        project.store.write("sessions/s2/checkpoint.md", "other session\n", writer)
    with pytest.raises(StoreError):
        project.store.write("../outside.txt", "escape\n")
    assert any("checkpoint-writer may not write MEMORY.md" in note for note in project.store.refusals)


def test_revert_is_a_new_commit_restoring_the_file(project: Project) -> None:
    before = project.store.read("MEMORY.md").text
    info = project.store.write("MEMORY.md", before + "- wrong fact\n")
    count = len(project.store.log())
    revert = project.store.revert(info.sha)
    assert project.store.read("MEMORY.md").text == before
    assert len(project.store.log()) == count + 1 and revert.message.startswith("revert:")


def test_conflicting_revert_is_aborted_and_files_left_as_they_were(project: Project) -> None:
    first = project.store.write("MEMORY.md", "line one\n")
    project.store.write("MEMORY.md", "line one changed again\n")
    with pytest.raises(RevertConflict) as caught:
        project.store.revert(first.sha)
    assert "aborted" in str(caught.value)
    assert project.store.read("MEMORY.md").text == "line one changed again\n"
    assert not (project.store.root / ".git" / "REVERT_HEAD").exists()
    status = project.store.git.out("status", "--porcelain")
    assert status == ""


def test_external_edit_is_committed_as_external(project: Project) -> None:
    seen = []
    project.store.subscribe(seen.append)
    with (project.store.root / "MEMORY.md").open("a") as handle:
        handle.write("- external fact\n")
    (project.store.root / "notes.txt").write_text("new file\n")
    events = project.store.commit_external()
    assert {e.relpath for e in events} == {"MEMORY.md", "notes.txt"}
    assert project.store.log()[0].author == "external"
    assert [e.relpath for e in seen] == [e.relpath for e in events]
    assert project.store.commit_external() == []


def test_binary_and_non_utf8_files_are_read_as_binary(project: Project) -> None:
    (project.store.root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (project.store.root / "latin.md").write_bytes("caf\xe9".encode("latin-1"))
    assert project.store.read("blob.bin").is_binary
    assert project.store.read("latin.md").is_binary
    assert not project.store.read("MEMORY.md").is_binary


def test_stale_lock_and_half_done_revert_are_recovered(git_project: Path) -> None:
    project = Project.open(git_project)
    lock = git_project / ".mimo" / ".git" / "index.lock"
    lock.write_text("")  # fresh, but no live process owns it: a crash left it
    notes = Project.open(git_project).store.recovery_notes
    assert not lock.exists() and any("index.lock left behind by a process that is gone" in note for note in notes)
    first = project.store.write("MEMORY.md", "a\n")
    project.store.write("MEMORY.md", "b\n")
    project.store.git.run("revert", "--no-commit", first.sha, check=False)  # leaves a conflicted revert behind
    assert (git_project / ".mimo" / ".git" / "REVERT_HEAD").exists()
    notes = Project.open(git_project).store.recovery_notes
    assert any("revert" in note for note in notes)
    assert (git_project / ".mimo" / "MEMORY.md").read_text() == "b\n"


def test_damaged_repo_is_reported_never_falls_through_to_outer_repo(git_project: Path) -> None:
    Project.open(git_project)
    (git_project / ".mimo" / ".git" / "HEAD").write_text("garbage\n")
    outer_before = subprocess.run(["git", "log", "--oneline"], cwd=git_project, capture_output=True, text=True).stdout
    with pytest.raises(RepoDamaged) as caught:
        Project.open(git_project)
    assert "mimo memory repair" in str(caught.value)
    outer_after = subprocess.run(["git", "log", "--oneline"], cwd=git_project, capture_output=True, text=True).stdout
    assert outer_before == outer_after
    message = repair_memory_repo(git_project / ".mimo").text()
    assert "fresh" in message
    project = Project.open(git_project)
    assert project.store.read("MEMORY.md").exists and len(project.store.log()) == 1


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError) as caught:
        open_memory_repo(blocker / ".mimo", {"MEMORY.md": "x"})
    assert str(blocker) in str(caught.value)


def test_list_files_skips_git_and_derived_data(project: Project) -> None:
    root = project.store.root
    (root / "state.db").write_bytes(b"x")
    (root / "cache").mkdir()
    (root / "cache" / "k.json").write_text("{}")
    project.store.write("sessions/s1/notes.md", "# notes\n")
    assert project.store.list_files() == [".gitignore", "MEMORY.md", "sessions/s1/notes.md"]


def test_write_returns_the_commit_exactly_as_log_reads_it(project: Project) -> None:
    message = "memory: agent noted the port\nwhich the dev server uses\n\nDetails in the session log."
    info = project.store.write("MEMORY.md", "# Project memory\n\n- port 8421\n", Writer("agent"), message)
    assert info == project.store.log(limit=1)[0]
    assert info.message == "memory: agent noted the port which the dev server uses"
    created = project.store.write("skills/new/SKILL.md", "# new skill\n", Writer("agent"))
    assert created == project.store.log("skills/new/SKILL.md")[0]


def test_atomic_write_keeps_permissions(project: Project) -> None:
    path = project.store.root / "MEMORY.md"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    path.chmod(0o640)
    project.store.write("MEMORY.md", "new text\n")
    assert path.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_databases_stay_ignored_even_without_gitignore(git_project: Path) -> None:
    project = Project.open(git_project)
    root = project.store.root
    (root / ".gitignore").unlink()
    project.store.commit_external()
    (root / "state.db").write_bytes(b"sqlite")
    (root / "cache").mkdir()
    (root / "cache" / "x.json").write_text("{}")
    project.store.commit_external()
    tracked = project.store.git.out("ls-files").split()
    assert "state.db" not in tracked and "cache/x.json" not in tracked
