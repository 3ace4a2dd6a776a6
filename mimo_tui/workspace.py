"""Where a project's data lives: the project root, its `.mimo/` memory repo and the user-level dirs."""

from __future__ import annotations

import os
import subprocess
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


def _git_toplevel(start: Path) -> Path | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def find_project_root(start: Path) -> Path:
    """The nearest ancestor holding `.mimo/`; else the enclosing git repo's root; else `start` itself."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / MIMO_DIR).is_dir():
            return folder
    return _git_toplevel(start) or start


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
