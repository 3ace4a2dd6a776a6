"""Messages the workbench posts between background work and widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from mimo_tui.memory.service import FileChanged
    from mimo_tui.project import Project


class ProjectOpened(Message, bubble=False):
    """The project (memory repo, config) is open and ready."""

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project


class MemoryChanged(Message, bubble=False):
    """A memory or skill file was committed, by anyone."""

    def __init__(self, change: FileChanged) -> None:
        super().__init__()
        self.change = change
