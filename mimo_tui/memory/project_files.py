"""What memory needs of an opened project, as a protocol, so memory/ does not import the project module above it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mimo_tui.config import Config
from mimo_tui.store import VersionedStore
from mimo_tui.workspace import Workspace


class ProjectFiles(Protocol):
    """The project's folders, its memory repo and its effective config (`mimo_tui.project.Project` is one)."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def store(self) -> VersionedStore: ...

    @property
    def config(self) -> Config: ...

    @property
    def root(self) -> Path: ...
