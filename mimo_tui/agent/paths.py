"""Resolving tool paths inside the project: symlinks followed, nothing outside the root except `.mimo/`."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.workspace import MIMO_DIR


class PathRefused(ValueError):
    """A path points outside the project; the message is meant for the model."""


def resolve_in_project(root: Path, raw: str) -> Path:
    """The real path of `raw` (relative to root), refusing one that resolves outside the project."""
    if not isinstance(raw, str) or not raw.strip():
        raise PathRefused("path is empty; give a path relative to the project root")
    root = root.resolve()
    candidate = Path(raw.strip()).expanduser()
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()
    if resolved.is_relative_to(root):
        return resolved
    # `.mimo/` may be a symlink to elsewhere (e.g. a shared memory folder): it stays reachable.
    mimo = (root / MIMO_DIR).resolve()
    if candidate.absolute().is_relative_to(root / MIMO_DIR) and resolved.is_relative_to(mimo):
        return resolved
    raise PathRefused(
        f"{raw} resolves to {resolved}, which is outside the project root {root}; "
        "file tools may only use paths inside the project"
    )


def display_path(root: Path, path: Path) -> str:
    """A path relative to the project root, POSIX style ('.' for the root)."""
    root = root.resolve()
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        pass
    try:
        return (Path(MIMO_DIR) / path.relative_to((root / MIMO_DIR).resolve())).as_posix()
    except ValueError:
        return str(path)


def memory_relpath(root: Path, path: Path) -> str | None:
    """The path relative to `.mimo/` when it is a file of the memory repo, else None."""
    try:
        return path.relative_to((root.resolve() / MIMO_DIR).resolve()).as_posix()
    except ValueError:
        return None
