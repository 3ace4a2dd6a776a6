"""An Input whose typing repaints the input only, instead of laying out the whole screen on every key."""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Input


class QuietInput(Input):
    """Textual's Input sets its virtual size (a layout reactive) to the text's width on every change, so each key
    typed makes Textual lay out and redraw the whole screen: ~8 ms with a long chat beside it, against ~1 ms
    for the input alone. The size is set quietly first (the value Input then sets is the same, so nothing else
    fires); horizontal scrolling reads it as before."""

    def _watch_value(self, value: str) -> None:
        self.set_reactive(Widget.virtual_size, Size(self.content_width, 1))
        super()._watch_value(value)
