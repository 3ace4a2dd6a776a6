"""A list of search results drawn line by line: new results repaint the list only, rows are drawn when seen.

Textual's OptionList measures every option (wrapping its text) and sets its virtual size, a layout reactive, on
each change, so every set of results laid out and redrew the whole screen. Here every row has a fixed number of
lines (a title cut to the width, then its detail wrapped into the lines left, the last one cut with an ellipsis),
a row's text is built only when the row scrolls into view, and a new set of results repaints the list only
(unless its height is auto, as in the side column, where the list's height follows its rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


@dataclass(frozen=True)
class HitRow:
    """One result of `height` lines: `key` names it in messages; `lines` builds its title and detail texts when
    the row is first drawn."""

    key: str
    height: int
    lines: Callable[[], Sequence[Text]]
    enabled: bool = True


class HitList(ScrollView, can_focus=True):
    """Rows of one or two lines; up/down/home/end/page keys move the highlight, enter or a click chooses a row."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "choose", "Choose", show=False),
    ]
    COMPONENT_CLASSES = {"hit-list--highlighted", "hit-list--disabled"}
    DEFAULT_CSS = """
    HitList { height: auto; max-height: 100%; background: $surface; }
    HitList > .hit-list--highlighted { background: $block-cursor-blurred-background; }
    HitList:focus > .hit-list--highlighted { background: $block-cursor-background; color: $block-cursor-foreground; }
    HitList > .hit-list--disabled { color: $text-disabled; }
    """

    # Its own size comes from CSS, not from its rows (unless auto, see watch_virtual_size): no layout per change.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    class Chosen(Message):
        """Row `key` was chosen (enter or a click)."""

        def __init__(self, hit_list: HitList, key: str) -> None:
            super().__init__()
            self.hit_list, self.key = hit_list, key

        @property
        def control(self) -> HitList:
            return self.hit_list

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[HitRow] = []
        self._lines: list[tuple[int, int]] = []  # (row, line within the row) for every line
        self._first_line: list[int] = []
        self._wrapped: dict[tuple[int, int], list[Text]] = {}
        self._strips: dict[tuple[int, int, bool, int], Strip] = {}
        self.highlighted: int | None = None
        self._styles: dict[str, Style] = {}

    # -- content --------------------------------------------------------------------------------
    def show(self, rows: list[HitRow]) -> None:
        """Replace the rows; the first enabled one is highlighted and scrolled to."""
        self.rows = rows
        self._lines, self._first_line = [], []
        for number, row in enumerate(rows):
            self._first_line.append(len(self._lines))
            self._lines += [(number, part) for part in range(row.height)]
        self._wrapped.clear()
        self._strips.clear()
        self.highlighted = next((n for n, row in enumerate(rows) if row.enabled), None)
        size = Size(self.scrollable_content_region.width, len(self._lines))
        self.virtual_size = size
        self._scroll_update(size)
        self.scroll_to(y=0, animate=False, immediate=True)
        self.refresh()

    @property
    def keys(self) -> list[str]:
        return [row.key for row in self.rows]

    def watch_virtual_size(self, old: Size, new: Size) -> None:
        if old.height != new.height and self.styles.auto_dimensions:
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines)

    # -- drawing --------------------------------------------------------------------------------
    def _on_resize(self, event: events.Resize) -> None:
        self._wrapped.clear()
        self._strips.clear()

    def notify_style_update(self) -> None:
        self._styles.clear()
        self._strips.clear()
        super().notify_style_update()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        line = self.scroll_offset.y + y
        if line >= len(self._lines):
            return Strip.blank(width, self._style("plain"))
        number, part = self._lines[line]
        highlighted = number == self.highlighted
        cache_key = (number, part, highlighted, width)
        strip = self._strips.get(cache_key)
        if strip is None:
            strip = self._strips[cache_key] = self._draw(number, part, highlighted, width)
        return strip

    def _draw(self, number: int, part: int, highlighted: bool, width: int) -> Strip:
        row = self.rows[number]
        lines = self._wrapped.get((number, width))
        if lines is None:
            lines = self._wrapped[(number, width)] = self._wrap(row, width)
        text = lines[part] if part < len(lines) else Text("")
        base = self._style("highlighted" if highlighted else "plain" if row.enabled else "disabled")
        segments = list(Segment.apply_style(text.render(self.app.console), base))
        return Strip(segments).adjust_cell_length(width, base).apply_meta({"hit_row": number})

    def _style(self, kind: str) -> Style:
        """The rich style of a plain, highlighted or disabled row (looking it up walks the widget's ancestors)."""
        style = self._styles.get(kind)
        if style is None:
            style = self.rich_style
            if kind != "plain":
                style += self.get_component_rich_style(f"hit-list--{kind}")
            self._styles[kind] = style
        return style

    def _wrap(self, row: HitRow, width: int) -> list[Text]:
        """The row's title cut to one line, then its details wrapped (indented) into the lines left."""
        texts = list(row.lines())
        if not texts:
            return []
        title = texts[0].copy()
        title.truncate(width, overflow="ellipsis")
        lines = [title]
        for detail in texts[1:]:
            for piece in detail.wrap(self.app.console, max(1, width - 2), no_wrap=False):
                lines.append(Text("  ") + piece)
        if len(lines) > row.height:
            last = lines[row.height - 1]
            last.truncate(max(1, width - 1), overflow="ellipsis")
            last.append("…")
            lines = lines[: row.height]
        for line in lines:
            line.truncate(width, overflow="ellipsis")
        return lines

    # -- moving and choosing --------------------------------------------------------------------
    def _highlight(self, number: int | None) -> None:
        if number is None or number == self.highlighted:
            return
        self.highlighted = number
        first = self._first_line[number]
        self.scroll_to_region(Region(0, first, max(1, self.scrollable_content_region.width), self.rows[number].height),
                              animate=False, immediate=True)
        self.refresh()

    def _enabled(self, numbers: range) -> int | None:
        return next((n for n in numbers if self.rows[n].enabled), None)

    def action_move(self, step: int) -> None:
        if not self.rows:
            return
        if self.highlighted is None:
            self._highlight(self._enabled(range(len(self.rows))))
        elif step > 0:
            self._highlight(self._enabled(range(self.highlighted + 1, len(self.rows))))
        else:
            self._highlight(self._enabled(range(self.highlighted - 1, -1, -1)))

    def action_first(self) -> None:
        self._highlight(self._enabled(range(len(self.rows))))

    def action_last(self) -> None:
        self._highlight(self._enabled(range(len(self.rows) - 1, -1, -1)))

    def action_page(self, direction: int) -> None:
        if self.highlighted is None:
            return
        target = self._first_line[self.highlighted] + direction * max(1, self.scrollable_content_region.height)
        target = max(0, min(target, len(self._lines) - 1))
        row = self._lines[target][0] if self._lines else None
        if row is not None:
            found = self._enabled(range(row, len(self.rows))) if direction > 0 else self._enabled(range(row, -1, -1))
            self._highlight(found if found is not None else self.highlighted)

    def action_choose(self) -> None:
        if self.highlighted is not None and self.rows[self.highlighted].enabled:
            self.post_message(self.Chosen(self, self.rows[self.highlighted].key))

    async def _on_click(self, event: events.Click) -> None:
        number = event.style.meta.get("hit_row")
        if number is not None and number < len(self.rows) and self.rows[number].enabled:
            self._highlight(number)
            self.action_choose()
