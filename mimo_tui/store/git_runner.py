"""Runs git against the memory repo only, never one found by searching parent folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mimo_tui.store.records import StoreError

# Auto-maintenance would spawn a `git maintenance` child on every commit (~10 ms); the store runs it
# itself now and then instead (VersionedStore.maintain).
_IDENTITY = (
    "-c", "user.name=mimo", "-c", "user.email=mimo@localhost", "-c", "commit.gpgsign=false",
    "-c", "maintenance.auto=false",
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
            "LC_ALL": "C",
        }
        for name in ("GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR"):
            self._env.pop(name, None)

    def run(self, *args: str, check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
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
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise StoreError(f"git {args[0]} failed in {self.work_tree}: {detail[-1] if detail else proc.returncode}")
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout
