"""Widgets that take a new size from a layout without asking Textual for a second layout of the whole screen."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget


class QuietResize(Widget):
    """When a layout gives a widget a new size, Textual sets its virtual size as a layout reactive, which lays out
    the whole screen once more (the streaming chat laid it out twice per frame). In the conversation nothing
    depends on that second pass: its scrollbar is updated with the size and bottom anchoring is applied while
    arranging, so the size is taken quietly, as Textual itself does when it only scrolls."""

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        return super()._size_updated(size, virtual_size, container_size, layout=False)
