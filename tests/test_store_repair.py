"""`mimo memory repair`: fsck-level checks, the damaged history kept outside the new repo, a report of both."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.project import Project


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", f"--git-dir={repo / '.git'}", f"--work-tree={repo}", *args],
                          capture_output=True, text=True, check=check)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def history(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A memory repo with three commits of MEMORY.md; returns the memory folder."""
    store = Project.open(git_project).store
    for fact in ("one", "two", "three"):
        store.write("MEMORY.md", store.read("MEMORY.md").text + f"- fact {fact}\n")
    monkeypatch.chdir(git_project)
    return store.root


def kept_copies(mimo: Path) -> list[Path]:
    return sorted(mimo.glob(".git-damaged-*"))


def test_a_healthy_repo_is_checked_and_left_alone(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commits = git(history, "rev-list", "--count", "HEAD").stdout
    code, out = cli(capsys, "memory", "repair")
    assert code == 0 and "healthy" in out and "nothing to repair" in out
    assert git(history, "rev-list", "--count", "HEAD").stdout == commits and not kept_copies(history)


def test_missing_objects_are_found_and_the_damaged_history_is_kept_outside_the_new_one(
    history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_blob = git(history, "rev-parse", "HEAD~2:MEMORY.md").stdout.strip()
    (history / ".git" / "objects" / old_blob[:2] / old_blob[2:]).unlink()
    code, out = cli(capsys, "memory", "revert", "HEAD~2")
    assert code != 0 and "mimo memory repair" in out and "Traceback" not in out, out
    files_before = (history / "MEMORY.md").read_bytes()

    code, out = cli(capsys, "memory", "repair")
    assert code == 0, out
    assert "healthy" not in out and "found:" in out and old_blob in out and "did:" in out, out
    [kept] = kept_copies(history)
    assert str(kept) in out
    assert (history / "MEMORY.md").read_bytes() == files_before
    # The new history is one commit of the memory files; the kept copy is in no commit and not even untracked.
    assert git(history, "rev-list", "--count", "HEAD").stdout.strip() == "1"
    every_path = git(history, "log", "--all", "--format=", "--name-only").stdout
    assert ".git-damaged" not in every_path and "MEMORY.md" in every_path
    assert git(history, "status", "--porcelain", "--untracked-files=all").stdout == ""
    # The kept copy is the old history as it was: its commits are still readable there.
    old_log = subprocess.run(["git", f"--git-dir={kept}", "log", "--format=%s"], capture_output=True, text=True).stdout
    assert old_log.count("memory: user updated MEMORY.md") == 3
    # Undoing the repair's commit cannot touch the kept copy.
    code, out = cli(capsys, "memory", "revert", "HEAD")
    assert code == 0, out
    assert kept.is_dir() and (kept / "HEAD").is_file()


def test_a_corrupt_index_alone_is_rebuilt_in_place_keeping_history(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = history / ".git" / "index"
    index.write_bytes(index.read_bytes()[:40])  # truncated: git itself reads it without complaint
    commits = git(history, "rev-list", "--count", "HEAD").stdout
    code, out = cli(capsys, "memory", "revert", "HEAD")
    assert code != 0 and "mimo memory repair" in out and "Traceback" not in out, out

    code, out = cli(capsys, "memory", "repair")
    assert code == 0 and "found:" in out and "index" in out and "rebuilt the index" in out, out
    assert git(history, "rev-list", "--count", "HEAD").stdout == commits and not kept_copies(history)
    assert git(history, "status", "--porcelain").stdout == ""
    code, out = cli(capsys, "memory", "revert", "HEAD")
    assert code == 0 and "revert:" in out, out
    assert "- fact three" not in (history / "MEMORY.md").read_text()


def test_repairing_twice_keeps_both_damaged_copies_out_of_history(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(2):
        (history / ".git" / "HEAD").write_text("garbage\n")
        code, out = cli(capsys, "memory", "repair")
        assert code == 0, out
    assert len(kept_copies(history)) == 2
    assert ".git-damaged" not in git(history, "log", "--all", "--format=", "--name-only").stdout
    shutil.rmtree(kept_copies(history)[0])  # the user may delete a kept copy: that is no edit of memory
    assert git(history, "status", "--porcelain", "--untracked-files=all").stdout == ""
