"""The side column beside the chat: the session's tasks, memory files and search, or the trainer's latest run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Click
from textual.widgets import ContentSwitcher, Static

if TYPE_CHECKING:
    from mimo_tui.services import Services

SIDE_VIEWS = (("side-tasks", "Tasks"), ("side-memory", "Memory"), ("side-trainer", "Trainer"))
SIDE_NAMES = {"tasks": "side-tasks", "memory": "side-memory", "trainer": "side-trainer"}


class SideColumn(Vertical):
    """One of three small views, switched with F6; its views mount after the first frame, when first shown."""

    DEFAULT_CSS = """
    SideColumn { border-left: solid $panel; }
    SideColumn #side-title { height: 1; padding: 0 1; background: $surface; }
    SideColumn ContentSwitcher { height: 1fr; }
    """

    def __init__(self, services: Services, current: str = "side-tasks", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self._initial = current if current in dict(SIDE_VIEWS) else "side-tasks"
        self._mounted: set[str] = set()
        self._spans: list[tuple[int, int, str]] = []

    def compose(self) -> ComposeResult:
        yield Static(id="side-title")
        yield ContentSwitcher(id="side-views")

    def on_mount(self) -> None:
        self._draw_title(self._initial)

    @property
    def current(self) -> str:
        switcher = self._switcher()
        return (switcher.current if switcher is not None else None) or self._initial

    def _switcher(self) -> ContentSwitcher | None:
        """None while the column itself is still being mounted (a key can arrive in that moment)."""
        found = self.query("#side-views")
        return found.first(ContentSwitcher) if found else None

    async def show(self, view_id: str) -> None:
        """Show one view, mounting it the first time."""
        switcher = self._switcher()
        if switcher is None:
            self._initial = view_id  # shown once the column is mounted
            return
        if view_id not in self._mounted:
            self._mounted.add(view_id)
            widget = _make_view(view_id, self.services)
            await switcher.mount(widget)
            project = self.services.project
            if project is not None and widget.is_mounted:
                from mimo_tui.ui.messages import ProjectOpened

                widget.post_message(ProjectOpened(project))
        if not any(child.id == view_id for child in switcher.children):
            return  # still mounting (a second call raced the first) or the app is closing
        switcher.current = view_id
        self._draw_title(view_id)

    def next_view(self) -> str:
        ids = [view_id for view_id, _title in SIDE_VIEWS]
        return ids[(ids.index(self.current) + 1) % len(ids)] if self.current in ids else ids[0]

    def _draw_title(self, current: str) -> None:
        text = Text()
        self._spans = []
        for view_id, title in SIDE_VIEWS:
            start = len(text)
            text.append(f" {title} ", style="bold reverse" if view_id == current else "")
            self._spans.append((start, len(text), view_id))
        text.append(" F6", style="dim")
        for title in self.query("#side-title").results(Static):  # none while the app closes under a late mount
            title.update(text)

    def on_click(self, event: Click) -> None:
        if event.widget is not self.query_one("#side-title"):
            return
        for start, end, view_id in self._spans:
            if start <= event.x - 1 < end:  # the title has one column of padding
                self.app.call_later(self.app.action_side_view, view_id.removeprefix("side-"))


def _make_view(view_id: str, services: Services):
    if view_id == "side-memory":
        from mimo_tui.ui.side.side_memory import SideMemory

        return SideMemory(services, id=view_id)
    if view_id == "side-trainer":
        from mimo_tui.ui.side.side_trainer import SideTrainer

        return SideTrainer(services, id=view_id)
    from mimo_tui.ui.side.side_tasks import SideTasks

    return SideTasks(services, id=view_id)
