"""Creating, checking and repairing a memory repo (`.mimo/` or the user's global memory)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from mimo_tui.store.records import StoreError, Writer
from mimo_tui.store.secret_guard import stage_all
from mimo_tui.store.versioned_store import VersionedStore, atomic_write

GITIGNORE = "state.db\nstate.db-*\nindex.db\nindex.db-*\ncache/\n*.tmp\n"
# Also never tracked, kept in `.git/info/exclude` (not versioned, so no `.gitignore` edit can undo it).
EXCLUDED = GITIGNORE + "secrets.toml\n"


def open_memory_repo(folder: Path, templates: dict[str, str], outer_project: Path | None = None) -> VersionedStore:
    """Open the memory repo in `folder`, creating it with `templates` (relpath -> text) on first use."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise StoreError(f"cannot create {folder}: permission denied (is the folder read-only?)") from exc
    except OSError as exc:
        raise StoreError(f"cannot create {folder}: {exc.strerror or exc}") from exc
    store = VersionedStore(folder)
    fresh = not (folder / ".git").exists()
    secret_notes: list[str] = []
    if fresh:
        if outer_project is not None:
            exclude_from_outer_repo(outer_project, folder)
        try:
            store.git.run("init", "-q")
            for rel, text in {".gitignore": GITIGNORE, **templates}.items():
                if not (folder / rel).exists():
                    atomic_write(folder / rel, text.encode("utf-8"))
            secret_notes = list(stage_all(store.git, folder).values())
            store.git.run("commit", "-q", "--no-verify", "--author=mimo <mimo@mimo>", "-m", "memory: created the memory repo")
        except PermissionError as exc:
            raise StoreError(f"cannot write to {folder}: permission denied (is the folder read-only?)") from exc
    _keep_derived_files_ignored(folder)
    store.recovery_notes = store.recover() + secret_notes
    store.check_health()
    if not fresh:
        store.maintain()
    return store


def _keep_derived_files_ignored(folder: Path) -> None:
    """Repeat the ignores in `.git/info/exclude`, so a reverted or deleted `.gitignore` never lets a database into history."""
    exclude = folder / ".git" / "info" / "exclude"
    try:
        current = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        missing = [line for line in EXCLUDED.splitlines() if line not in current.splitlines()]
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


def repair_memory_repo(folder: Path) -> str:
    """Keep a damaged `.git` aside and start a fresh history from the files on disk."""
    broken = folder / ".git"
    aside = folder / f".git.broken-{int(time.time())}"
    if broken.exists():
        broken.rename(aside)
    store = VersionedStore(folder)
    store.git.run("init", "-q")
    if not (folder / ".gitignore").exists():
        atomic_write(folder / ".gitignore", GITIGNORE.encode())
    stage_all(store.git, folder)
    store.git.run("commit", "-q", "--no-verify", "--allow-empty", "--author=user <user@mimo>", "-m",
                  "memory: fresh history after repair")
    return f"kept the damaged history at {aside}; started a fresh one from the current files"


__all__ = ["open_memory_repo", "repair_memory_repo", "exclude_from_outer_repo", "Writer"]
