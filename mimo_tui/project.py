"""One opened project: its workspace, memory repo and effective config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mimo_tui.config import Config, load_config
from mimo_tui.memory.templates import PROJECT_MEMORY
from mimo_tui.store import VersionedStore, open_memory_repo
from mimo_tui.workspace import Workspace


@dataclass
class Project:
    """What every command and pane works on."""

    workspace: Workspace
    store: VersionedStore
    config: Config

    @classmethod
    def open(cls, start: Path | None = None) -> Project:
        """Locate the project from `start`, creating its memory repo on first use."""
        workspace = Workspace.locate(start)
        store = open_memory_repo(workspace.mimo_dir, {"MEMORY.md": PROJECT_MEMORY}, outer_project=workspace.root)
        return cls(workspace, store, load_config(workspace.config_file))

    @property
    def root(self) -> Path:
        return self.workspace.root
