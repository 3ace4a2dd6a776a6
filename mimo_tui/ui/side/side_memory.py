"""Memory in the side column: the files of `.mimo/` and search hits; choosing one opens it in the memory pane."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Tree

from mimo_tui.ui.file_tree import fill_file_tree
from mimo_tui.ui.memory_search import MemorySearch
from mimo_tui.ui.messages import MemoryChanged, ProjectOpened
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.services import Services


class SideMemory(ShowsWorkerFailures, Vertical):
    """A file tree and a search box over memory, sized for the side column."""

    DEFAULT_CLASSES = "project-pane"
    DEFAULT_CSS = """
    SideMemory #side-memory-tree { height: 1fr; }
    SideMemory #side-memory-search { height: auto; max-height: 70%; }
    SideMemory #memory-results { height: auto; max-height: 24; }
    """

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.project: Any = None
        self.files: list[str] = []

    def compose(self) -> ComposeResult:
        yield MemorySearch(id="side-memory-search")
        tree: Tree[str] = Tree(".mimo", id="side-memory-tree")
        tree.show_root = False
        yield tree

    def on_project_opened(self, message: ProjectOpened) -> None:
        self.project = message.project
        self.query_one(MemorySearch).project = message.project
        self.reload()

    def on_memory_changed(self, message: MemoryChanged) -> None:
        if message.change.relpath not in self.files:
            self.reload()

    @work(thread=True, exit_on_error=False, exclusive=True, group="side-memory-files")
    def reload(self) -> None:
        deliver(self, self._show, self.services.memory.files())

    def _show(self, files: list[str]) -> None:
        self.files = files
        fill_file_tree(self.query_one("#side-memory-tree", Tree), files)

    @on(Tree.NodeSelected, "#side-memory-tree")
    def _file_chosen(self, event: Tree.NodeSelected[str]) -> None:
        if event.node.data:
            self.app.call_later(self.app.open_memory_at, "project", event.node.data, 1)

    @on(MemorySearch.Jump)
    def _hit_chosen(self, event: MemorySearch.Jump) -> None:
        event.stop()
        self.app.call_later(self.app.open_memory_at, event.root, event.relpath, event.line)
