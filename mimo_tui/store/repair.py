"""`mimo memory repair`: find what is wrong with a memory repo (fsck-level) and fix it, saying both.

A corrupt index alone is rebuilt from HEAD in place. Anything else (a `.git` that is a gitfile or a
symlink, a corrupt HEAD, missing or corrupt objects) gets a fresh history from the files on disk; the
damaged `.git` is moved, untouched, to `.mimo/.git-damaged-<time>`, which the new repo ignores through
its `.git/info/exclude`: it is never committed, so no later commit or revert can change or delete it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mimo_tui.store.git_runner import GitRunner
from mimo_tui.store.memory_repo import DAMAGED_PREFIX, GITIGNORE, _keep_derived_files_ignored
from mimo_tui.store.records import StoreError
from mimo_tui.store.repo_guard import git_dir_problem, index_problem
from mimo_tui.store.secret_guard import stage_all
from mimo_tui.atomic_file import atomic_write
from mimo_tui.store.versioned_store import VersionedStore


@dataclass
class RepairReport:
    """What `repair` found and what it did, one sentence each."""

    folder: Path
    found: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.found

    def text(self) -> str:
        if self.healthy and not self.done:
            return (f"the memory repo {self.folder} is healthy (git folder, HEAD, index and every object checked); "
                    "nothing to repair")
        lines = [f"found: {item}" for item in self.found] + [f"did: {item}" for item in self.done]
        return "\n".join(lines)


def diagnose(folder: Path) -> tuple[list[str], bool]:
    """(problems found, whether history itself is damaged); an empty list means healthy."""
    problem = git_dir_problem(folder)
    if problem == "missing":
        return [f"{folder / '.git'} is missing: there is no history"], True
    if problem is not None:
        return [f"{folder / '.git'} is {problem}"], True
    git = GitRunner(folder)
    found: list[str] = []
    head = _raw_git(git, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        found.append("HEAD does not point at a readable commit")
    fsck = _raw_git(git, "fsck", "--full", "--no-dangling", "--no-progress", without_index=True)
    if fsck.returncode != 0:
        lines = [line.strip() for line in (fsck.stdout + fsck.stderr).splitlines() if line.strip()]
        shown = "; ".join(lines[:3]) + (f" (and {len(lines) - 3} more)" if len(lines) > 3 else "")
        found.append(f"git fsck reports missing or corrupt objects: {shown or 'exit status ' + str(fsck.returncode)}")
    history_damaged = bool(found)
    index = index_problem(git.git_dir)
    if index is not None:
        found.append(f"{folder / '.git'} is {index}")
    return found, history_damaged


def _raw_git(git: GitRunner, *args: str, without_index: bool = False) -> subprocess.CompletedProcess[str]:
    """A git command whose failure is the finding (not an error), optionally blind to a corrupt index."""
    env = git.environment()
    with tempfile.TemporaryDirectory() as spare:
        if without_index:
            env["GIT_INDEX_FILE"] = os.path.join(spare, "index")  # absent: objects are checked, not the index
        return subprocess.run(["git", *args], cwd=git.work_tree, env=env, capture_output=True, text=True,
                              encoding="utf-8", errors="replace")


def repair_memory_repo(folder: Path) -> RepairReport:
    """Check the memory repo in `folder` and fix what is wrong, holding its write lock throughout."""
    report = RepairReport(folder)
    if not folder.is_dir():
        raise StoreError(f"there is no memory folder {folder}; it is created on first use")
    store = VersionedStore(folder)
    with store.exclusive():
        found, history_damaged = diagnose(folder)
        report.found = found
        if history_damaged:
            _fresh_history(store, report)
        elif found:
            _rebuild_index(store, report)
        else:
            notes = store.recover()
            report.done.extend(notes)
    return report


def _rebuild_index(store: VersionedStore, report: RepairReport) -> None:
    git_dir = store.git.git_dir
    kept = git_dir / f"index.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
    os.replace(git_dir / "index", kept)
    store.git.run("read-tree", "HEAD")
    report.done.append(f"rebuilt the index from HEAD (history and files untouched); the corrupt one is kept at {kept}")


def _fresh_history(store: VersionedStore, report: RepairReport) -> None:
    folder = store.root
    aside = _free_name(folder, DAMAGED_PREFIX + time.strftime("%Y%m%d-%H%M%S"))
    if os.path.lexists(folder / ".git"):
        os.rename(folder / ".git", aside)  # a gitfile or symlink is moved as itself; what it points at is not touched
        report.done.append(f"moved the damaged {folder / '.git'} to {aside} as it was "
                           "(outside history: the new repo ignores it through .git/info/exclude)")
    store.git.run("init", "-q")
    _keep_derived_files_ignored(folder)
    if not (folder / ".gitignore").exists():
        atomic_write(folder / ".gitignore", GITIGNORE.encode())
    for warning in stage_all(store.git, folder).values():
        report.done.append(warning)
    tracked = [line for line in store.git.out("ls-files", "-z").split("\0") if line]
    leaked = [rel for rel in tracked if rel.startswith(DAMAGED_PREFIX)]
    if leaked:  # never expected: the exclude above covers them
        raise StoreError(f"repair would have committed the damaged history ({leaked[0]}); stopped before committing")
    store.git.run("commit", "-q", "--no-verify", "--allow-empty", "--author=user <user@mimo>", "-m",
                  f"memory: fresh history after repair (the damaged one is kept, uncommitted, in {aside.name})")
    report.done.append(f"started a fresh history from the current files: {len(tracked)} files in commit "
                       f"{store.head().short}")


def _free_name(folder: Path, name: str) -> Path:
    candidate, n = folder / name, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = folder / f"{name}-{n}"
    return candidate
