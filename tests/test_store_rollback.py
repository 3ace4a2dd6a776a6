"""A write whose commit fails is undone: disk and history agree with what the caller is told."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mimo_tui.project import Project
from mimo_tui.store import WriteFailed
from tests.fixtures.mimo_process import mimo_env, read_only_for_a_user



def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo / '.git'}", f"--work-tree={repo}", *args],
                          capture_output=True, text=True, check=True).stdout


def refuse_commits(repo: Path) -> Path:
    """A real commit failure: a prepare-commit-msg hook (run even with --no-verify) that exits 1."""
    hook = repo / ".git" / "hooks" / "prepare-commit-msg"
    hook.write_text("#!/bin/sh\necho 'hook: commits are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    return hook


def test_a_failed_commit_puts_an_existing_file_back_byte_for_byte(git_project: Path) -> None:
    store = Project.open(git_project).store
    store.write("MEMORY.md", "# Project memory\r\n\n- keep these exact bytes \u00e9\n")
    before = (store.root / "MEMORY.md").read_bytes()
    head = git(store.root, "rev-parse", "HEAD")
    refuse_commits(store.root)
    with pytest.raises(WriteFailed) as caught:
        store.write("MEMORY.md", "# Project memory\n\n- a fact that must not stay\n")
    assert "nothing was written" in str(caught.value) and "MEMORY.md" in str(caught.value)
    assert (store.root / "MEMORY.md").read_bytes() == before
    assert git(store.root, "rev-parse", "HEAD") == head
    assert git(store.root, "status", "--porcelain") == ""


def test_a_failed_commit_removes_a_new_file_and_restores_a_deleted_one(git_project: Path) -> None:
    store = Project.open(git_project).store
    store.write("sessions/s1/notes.md", "# notes\n")
    refuse_commits(store.root)
    with pytest.raises(WriteFailed):
        store.write("sessions/s1/new.md", "new\n")
    assert not (store.root / "sessions" / "s1" / "new.md").exists()
    with pytest.raises(WriteFailed):
        store.delete("sessions/s1/notes.md")
    assert (store.root / "sessions" / "s1" / "notes.md").read_text() == "# notes\n"
    assert git(store.root, "status", "--porcelain") == ""


def test_mimo_run_whose_remember_fails_exits_1_and_a_retry_adds_the_fact_once(
    git_project: Path, run_mimo, tmp_path: Path
) -> None:
    store = Project.open(git_project).store
    before = (store.root / "MEMORY.md").read_bytes()
    hook = refuse_commits(store.root)
    failed = run_mimo(git_project, "run", "--json", "remember zq-retry fact")
    assert failed.returncode == 1, failed.stderr
    record = json.loads(failed.stdout.strip().splitlines()[-1])
    call = next(c for c in record["tool_calls"] if c["tool"] == "memory")
    assert call["status"] == "error" and call["write_failed"] and "nothing was written" in call["result"]
    assert record["failed_writes"] and "failed" in failed.stderr
    assert (store.root / "MEMORY.md").read_bytes() == before
    hook.unlink()
    retried = run_mimo(git_project, "run", "--json", "remember zq-retry fact")
    assert retried.returncode == 0, retried.stderr
    assert (store.root / "MEMORY.md").read_text().count("zq-retry fact") == 1
    assert git(store.root, "show", "HEAD:MEMORY.md").count("zq-retry fact") == 1


WRITER = """
    import sys
    from pathlib import Path
    from mimo_tui.store import VersionedStore, WriteFailed
    try:
        VersionedStore(Path(sys.argv[1])).write("MEMORY.md", "# Project memory\\n\\n- cannot be stored\\n")
    except WriteFailed as exc:
        print(exc)
        sys.exit(3)
"""


def test_read_only_objects_make_the_commit_fail_and_the_file_is_put_back(world_readable_dir: Path) -> None:
    project = world_readable_dir / "proj"
    project.mkdir()
    store = Project.open(project).store
    before = (store.root / "MEMORY.md").read_bytes()
    user = read_only_for_a_user(store.root / ".git" / "objects", owned=project)
    env = {**mimo_env(), "HOME": str(world_readable_dir)}
    child = subprocess.run([*user, sys.executable, "-c", textwrap.dedent(WRITER), str(store.root)],
                           env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 3, child.stderr
    assert "nothing was written" in child.stdout
    assert (store.root / "MEMORY.md").read_bytes() == before
    assert git(store.root, "status", "--porcelain") == ""
