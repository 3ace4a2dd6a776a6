"""Where the side column stands: which view, how wide, shown or hidden; remembered, and settable in config `[ui]`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

# Below this many columns the workbench shows one pane at a time (an 80x24 terminal gets no side column).
NARROW_WIDTH = 100
VIEWS = ("tasks", "memory", "trainer")
DEFAULT_WIDTH = 40
MIN_WIDTH, MAX_WIDTH = 28, 70


@dataclass(frozen=True)
class SideLayout:
    """The side column's view, width and visibility."""

    view: str = "tasks"
    width: int = DEFAULT_WIDTH
    shown: bool = True

    @classmethod
    def from_mapping(cls, data: dict[str, Any], base: SideLayout | None = None) -> SideLayout:
        """Valid keys of `data` (side, side_width, side_shown) over `base`; anything else is ignored."""
        layout = base or cls()
        view = data.get("side")
        if view == "none":
            layout = replace(layout, shown=False)
        elif view in VIEWS:
            layout = replace(layout, view=view, shown=True)
        width = data.get("side_width")
        if isinstance(width, int) and not isinstance(width, bool):
            layout = replace(layout, width=max(MIN_WIDTH, min(MAX_WIDTH, width)))
        if isinstance(data.get("side_shown"), bool) and view != "none":
            layout = replace(layout, shown=data["side_shown"])
        return layout

    @classmethod
    def remembered(cls) -> SideLayout:
        from mimo_tui.ui_state import load_ui_state

        return cls.from_mapping(load_ui_state())

    def with_config(self, ui_table: dict[str, Any]) -> SideLayout:
        """Config `[ui] side = "tasks"|"memory"|"trainer"|"none"` and `side_width` win over what was remembered."""
        return SideLayout.from_mapping(ui_table, self)

    def but(self, **changes: Any) -> SideLayout:
        width = changes.get("width")
        if width is not None:
            changes["width"] = max(MIN_WIDTH, min(MAX_WIDTH, width))
        return replace(self, **changes)

    def remember(self) -> None:
        from mimo_tui.ui_state import save_ui_state

        save_ui_state(side=self.view, side_width=self.width, side_shown=self.shown)
