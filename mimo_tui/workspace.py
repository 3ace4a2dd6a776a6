"""Where a project's data lives: the project root, its `.mimo/` memory repo and the user-level dirs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MIMO_DIR = ".mimo"


def user_config_dir() -> Path:
    """The user-level config folder (XDG on Linux)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "mimo"


def user_data_dir() -> Path:
    """The user-level data folder, home of the global memory repo and UI state."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "mimo"


CEILING_ENV = "MIMO_CEILING_DIRECTORIES"


def _ceilings() -> set[Path]:
    """Folders the root search never enters (like GIT_CEILING_DIRECTORIES): `MIMO_CEILING_DIRECTORIES`, colon-separated."""
    return {Path(p).resolve() for p in os.environ.get(CEILING_ENV, "").split(os.pathsep) if p}


def find_project_root(start: Path) -> Path:
    """The nearest folder, from `start` up, holding `.mimo/` or a git repo (`.git`); else `start` itself.

    A git repository bounds the search, so a stray `.mimo/` in a parent folder (the home folder, /tmp)
    never captures the projects below it.
    """
    start = start.resolve()
    ceilings = _ceilings()
    for folder in (start, *start.parents):
        if folder in ceilings:
            break
        if folder.name == MIMO_DIR:  # the memory repo's own .git is not a project
            continue
        if (folder / MIMO_DIR).is_dir() or (folder / ".git").exists():
            return folder
    return start


@dataclass(frozen=True)
class Workspace:
    """Paths of one project's data."""

    root: Path

    @classmethod
    def locate(cls, start: Path | None = None) -> Workspace:
        return cls(find_project_root(start or Path.cwd()))

    @property
    def mimo_dir(self) -> Path:
        return self.root / MIMO_DIR

    @property
    def memory_file(self) -> Path:
        return self.mimo_dir / "MEMORY.md"

    @property
    def config_file(self) -> Path:
        return self.mimo_dir / "config.toml"

    @property
    def state_db(self) -> Path:
        return self.mimo_dir / "state.db"

    @property
    def index_db(self) -> Path:
        return self.mimo_dir / "index.db"

    @property
    def cache_dir(self) -> Path:
        return self.mimo_dir / "cache"

    @property
    def runs_dir(self) -> Path:
        return self.mimo_dir / "runs"

    @property
    def skills_dir(self) -> Path:
        return self.mimo_dir / "skills"

    @property
    def sessions_dir(self) -> Path:
        return self.mimo_dir / "sessions"

    def session_dir(self, session_id: str) -> Path:
        return self.sessions_dir / session_id
