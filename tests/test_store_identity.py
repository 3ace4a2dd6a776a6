"""A damaged `.mimo/.git` never makes mimo act on the user's own repo: it is refused, and repair is the way out."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.project import Project


def user_git(project: Path, *args: str) -> str:
    # --no-optional-locks: looking at the user's repo must not refresh (rewrite) its index either
    return subprocess.run(["git", "--no-optional-locks", *args], cwd=project, capture_output=True, text=True, check=True,
                          env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}).stdout


def users_repo_state(project: Path) -> dict[str, str]:
    """Everything a user would notice: HEAD, the index bytes, status, every working file, every ref."""
    state = {
        "HEAD": user_git(project, "rev-parse", "HEAD"),
        "index": hashlib.sha1((project / ".git" / "index").read_bytes()).hexdigest(),
        "status": user_git(project, "status", "--porcelain", "--untracked-files=all"),
        "refs": user_git(project, "for-each-ref"),
        "objects": str(sorted(p.name for p in (project / ".git" / "objects").rglob("*"))),
    }
    for path in sorted(project.rglob("*")):
        rel = path.relative_to(project)
        if rel.parts[0] in (".git", ".mimo") or not path.is_file():
            continue
        state[str(rel)] = hashlib.sha1(path.read_bytes()).hexdigest()
    return state


@pytest.fixture
def users_project(git_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's repo with two commits, a staged file and an untracked one, and a memory repo beside it."""
    run = lambda *args: subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],  # noqa: E731
                                       cwd=git_project, check=True, capture_output=True)
    (git_project / "app.py").write_text('print("hello")\nprint(2)\n')
    run("commit", "-qam", "two")
    (git_project / "staged.txt").write_text("staged\n")
    run("add", "staged.txt")
    (git_project / "untracked.txt").write_text("untracked\n")
    Project.open(git_project)
    monkeypatch.chdir(git_project)
    return git_project


def damage(project: Path, kind: str) -> None:
    git_dir = project / ".mimo" / ".git"
    if kind == "gitfile to the user's repo":
        shutil.rmtree(git_dir)
        git_dir.write_text(f"gitdir: {project / '.git'}\n")
    elif kind == "symlink to the user's repo":
        shutil.rmtree(git_dir)
        git_dir.symlink_to(project / ".git")
    elif kind == "corrupt HEAD":
        (git_dir / "HEAD").write_text("garbage\n")
    elif kind == "missing objects folder":
        shutil.rmtree(git_dir / "objects")


KINDS = ["gitfile to the user's repo", "symlink to the user's repo", "corrupt HEAD", "missing objects folder"]


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_memory_repo_is_refused_and_the_users_repo_is_unchanged(
    users_project: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    damage(users_project, kind)
    before = users_repo_state(users_project)
    for argv in (("memory", "revert", "HEAD"), ("memory", "log"), ("run", "remember zq-damaged fact")):
        code, out = cli(capsys, *argv)
        assert code != 0, f"mimo {' '.join(argv)} succeeded on a memory repo with a {kind}: {out}"
        assert "mimo memory repair" in out and "Traceback" not in out, out
        assert users_repo_state(users_project) == before, f"mimo {' '.join(argv)} changed the user's repo"
    assert "zq-damaged" not in user_git(users_project, "log", "-p", "--all")


@pytest.mark.parametrize("kind", KINDS)
def test_repair_is_the_way_out_and_leaves_the_users_repo_alone(
    users_project: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    damage(users_project, kind)
    before = users_repo_state(users_project)
    code, out = cli(capsys, "memory", "repair")
    assert code == 0 and "found:" in out and "did:" in out, out
    code, out = cli(capsys, "run", "remember zq-after-repair fact")
    assert code == 0, out
    assert "zq-after-repair fact" in (users_project / ".mimo" / "MEMORY.md").read_text()
    code, out = cli(capsys, "memory", "log")
    assert code == 0 and "appended to MEMORY.md" in out
    assert users_repo_state(users_project) == before
