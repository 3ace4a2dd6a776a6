"""Creating, checking and repairing a memory repo (`.mimo/` or the user's global memory)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from mimo_tui.store.repo_guard import ensure_own_git_dir
from mimo_tui.store.repo_lock import LOCK_NAME
from mimo_tui.store.records import StoreError, Writer
from mimo_tui.store.secret_guard import stage_all
from mimo_tui.atomic_file import atomic_write
from mimo_tui.store.versioned_store import VersionedStore

GITIGNORE = "state.db\nstate.db-*\nindex.db\nindex.db-*\ncache/\n*.tmp\n"
# Kept out of history through .git/info/exclude (untracked, so no commit or revert can touch them).
DAMAGED_PREFIX = ".git-damaged-"
EXCLUDES = GITIGNORE + f"secrets.toml\n/{LOCK_NAME}\n/{DAMAGED_PREFIX}*\n"


def open_memory_repo(folder: Path, templates: dict[str, str], outer_project: Path | None = None) -> VersionedStore:
    """Open the memory repo in `folder`, creating it with `templates` (relpath -> text) on first use.

    A `.git` that is not the folder's own git repository (a gitfile, a symlink, one git would not
    accept) raises RepoDamaged before any git command runs, so nothing can reach another repository.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise StoreError(f"cannot create {folder}: permission denied (is the folder read-only?)") from exc
    except OSError as exc:
        raise StoreError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    store = VersionedStore(folder)
    fresh = not os.path.lexists(folder / ".git")
    secret_notes: list[str] = []
    if fresh:
        with store.exclusive():  # several processes may open a new project at once: one creates the repo
            if not os.path.lexists(folder / ".git"):
                secret_notes = _create(store, templates, outer_project)
    ensure_own_git_dir(folder)
    _keep_derived_files_ignored(folder)
    store.recovery_notes = store.recover() + secret_notes
    store.check_health()
    if not fresh:
        store.maintain()
    return store


def _create(store: VersionedStore, templates: dict[str, str], outer_project: Path | None) -> list[str]:
    """Init and commit the templates and what is already there; returns warnings for files left out (literal keys)."""
    folder = store.root
    if outer_project is not None:
        exclude_from_outer_repo(outer_project, folder)
    try:
        store.git.run("init", "-q")
        _keep_derived_files_ignored(folder)
        for rel, text in {".gitignore": GITIGNORE, **templates}.items():
            if not (folder / rel).exists():
                atomic_write(folder / rel, text.encode("utf-8"))
        secret_notes = list(stage_all(store.git, folder).values())
        store.git.run("commit", "-q", "--no-verify", "--author=mimo <mimo@mimo>", "-m", "memory: created the memory repo")
        return secret_notes
    except PermissionError as exc:
        raise StoreError(f"cannot write to {folder}: permission denied (is the folder read-only?)") from exc


def _keep_derived_files_ignored(folder: Path) -> None:
    """Repeat the ignores in `.git/info/exclude`, so a reverted or deleted `.gitignore` never lets a database into history."""
    exclude = folder / ".git" / "info" / "exclude"
    try:
        current = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        missing = [line for line in EXCLUDES.splitlines() if line not in current.splitlines()]
        if missing:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            with exclude.open("a", encoding="utf-8") as handle:
                handle.write(("" if current.endswith("\n") or not current else "\n") + "\n".join(missing) + "\n")
    except OSError:
        pass  # .gitignore still covers the usual case; a read-only repo is reported elsewhere


def exclude_from_outer_repo(project: Path, folder: Path) -> None:
    """Add the memory folder to the project repo's `.git/info/exclude` so it never shows as untracked."""
    if not (project / ".git").exists():
        return
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--git-path", "info/exclude"], cwd=project, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return
    if out.returncode != 0:
        return
    exclude = (project / out.stdout.strip()).resolve()
    entry = "/" + folder.relative_to(project).as_posix() + "/"
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    if entry not in existing.split():
        exclude.parent.mkdir(parents=True, exist_ok=True)
        with exclude.open("a", encoding="utf-8") as handle:
            handle.write(("" if existing.endswith("\n") or not existing else "\n") + entry + "\n")


__all__ = ["open_memory_repo", "exclude_from_outer_repo", "Writer"]
