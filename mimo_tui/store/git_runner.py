"""Runs git against the memory repo only, never one found by searching parent folders."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from mimo_tui.store.records import StoreError
from mimo_tui.store.repo_guard import damaged, ensure_own_git_dir

# Auto-maintenance would spawn a `git maintenance` child on every commit (~10 ms); the store runs it
# itself now and then instead (VersionedStore.maintain).
_IDENTITY = (
    "-c", "user.name=mimo", "-c", "user.email=mimo@localhost", "-c", "commit.gpgsign=false",
    "-c", "maintenance.auto=false",
)
# What git says when the repository itself is broken (as opposed to a refused or conflicting command).
_DAMAGE = re.compile(
    r"index file corrupt|bad signature|bad index file|not a git repository|bad object|"
    r"unable to read (?:(?:blob|tree|commit|tag|object) )*[0-9a-f]{7,}|loose object [0-9a-f]+ .*is corrupt|did not receive expected object|"
    r"missing (blob|tree|commit) [0-9a-f]{7,}|object file .* is empty|fatal: bad tree object"
)


class GitRunner:
    """A git command line pinned to one work tree and its `.git` folder."""

    def __init__(self, work_tree: Path) -> None:
        self.work_tree = work_tree
        self.git_dir = work_tree / ".git"
        self._env = {
            **os.environ,
            "GIT_DIR": str(self.git_dir),
            "GIT_WORK_TREE": str(work_tree),
            "GIT_CEILING_DIRECTORIES": str(work_tree.parent),
            "GIT_TERMINAL_PROMPT": "0",
            # Reads (status, diff) never take index.lock, so they cannot make another process's commit fail.
            "GIT_OPTIONAL_LOCKS": "0",
            "LC_ALL": "C",
        }
        for name in ("GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
            self._env.pop(name, None)

    def run(self, *args: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run git on this repo; RepoDamaged (naming the way out) when `.git` is not its own or git finds it broken."""
        if args[0] != "init":
            ensure_own_git_dir(self.work_tree)
        try:
            proc = subprocess.run(
                ["git", *_IDENTITY, *args],
                cwd=self.work_tree,
                env=self._env,
                capture_output=True,
                text=True,
                input=input_text,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            raise StoreError(f"cannot run git in {self.work_tree}: {exc}") from exc
        if proc.returncode != 0 and args[0] not in ("init", "fsck"):
            broken = _DAMAGE.search(proc.stderr)
            if broken:
                raise damaged(self.work_tree, f"damaged (git {args[0]}: {_line_with(proc.stderr, broken.group(0))})")
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise StoreError(f"git {args[0]} failed in {self.work_tree}: {detail[-1] if detail else proc.returncode}")
        return proc

    def environment(self) -> dict[str, str]:
        """A copy of the environment that pins git to this repo (for a caller that runs git itself)."""
        return dict(self._env)

    def out(self, *args: str) -> str:
        return self.run(*args).stdout


def _line_with(text: str, needle: str) -> str:
    return next((line.strip() for line in text.splitlines() if needle in line), needle)
