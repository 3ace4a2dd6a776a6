"""The closed segments of a streaming answer as one widget: each drawn once, its lines kept, never redrawn."""

from __future__ import annotations

import time
from collections import Counter

from textual.geometry import Size
from textual.strip import Strip
from textual.visual import RichVisual, Visual
from textual.widget import Widget

from mimo_tui.ui.chat.quiet_resize import QuietResize
from mimo_tui.ui.chat.answer_segment import RenderCost, answer_markdown, draw_lines


class SettledAnswer(QuietResize, Widget):
    """Looks exactly like one AnswerSegment per closed part, with the blank line between them, but is a single
    widget: each layout of the screen visits every widget, and a 20k-token answer has a few hundred parts.
    Appending a part draws only that part; the lines of the earlier ones are reused as they are."""

    DEFAULT_CSS = """
    SettledAnswer { height: auto; padding: 0 1; margin: 0 0 1 0; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []
        self.draws: Counter[tuple[int, int]] = Counter()  # markdown renders per (part, width): one each
        self._width = 0
        self._lines: list[Strip] = []
        self._unshown = False

    def add(self, source: str) -> None:
        """One more closed part, drawn below the others (drawn now; on the screen after `show`)."""
        self.sources.append(source)
        if self._width:
            self._extend(len(self.sources) - 1)
        self._unshown = True

    def show(self) -> None:
        """Lay the screen out again for the parts added since the last call."""
        if self._unshown:
            self._unshown = False
            self.refresh(layout=True)

    def _extend(self, index: int) -> None:
        if self._lines:
            self._lines.append(Strip.blank(0))  # where a segment's bottom margin was
        self._lines.extend(self._draw_part(index, self.sources[index], self._width))

    def _draw_part(self, index: int, source: str, width: int) -> list[Strip]:
        # The path Textual takes for a Static showing these segments, so a part looks as an AnswerSegment did.
        started = time.perf_counter()
        segments, _ = draw_lines(self.app.console, answer_markdown(source), width)
        strips = Visual.to_strips(self, RichVisual(self, segments), width, None, self.visual_style)
        RenderCost.record(time.perf_counter() - started, len(source))
        self.draws[index, width] += 1
        return strips

    def _lines_at(self, width: int) -> list[Strip]:
        if width != self._width:
            self._width = width
            self._lines = []
            for index in range(len(self.sources)):
                self._extend(index)
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines_at(width)) if width > 0 else 0

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines_at(width) if width > 0 else []
        return lines[y] if 0 <= y < len(lines) else Strip.blank(width)
