"""A stretch of an answer drawn with Rich's markdown as one widget, so long conversations stay cheap to lay out."""

from __future__ import annotations

from rich.console import RenderableType
from rich.markdown import Heading, Markdown as RichMarkdown
from rich.segment import Segment, Segments
from textual.geometry import Size
from textual.widgets import Static


class LeftHeading(Heading):
    """Headings aligned left, like Textual's Markdown widget draws them."""

    LEVEL_ALIGN = {f"h{level}": "left" for level in range(1, 7)}


class AnswerMarkdown(RichMarkdown):
    """Rich's markdown with left-aligned headings."""

    elements = {**RichMarkdown.elements, "heading_open": LeftHeading}


class AnswerSegment(Static):
    """Markdown parsed and highlighted once per text and width, as a single widget.

    The segment still streaming is redrawn whole on each write (it stays short); then it simply stops changing.
    """

    DEFAULT_CSS = """
    AnswerSegment { padding: 0 1; margin: 0 0 1 0; }
    """

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self._markdown = AnswerMarkdown(source, code_theme="monokai", hyperlinks=False)
        self._drawn: tuple[int, Segments, int] | None = None

    def set_source(self, source: str) -> None:
        """Show `source` instead (the streaming segment grew)."""
        self.source = source
        self._markdown = AnswerMarkdown(source, code_theme="monokai", hyperlinks=False)
        self._drawn = None
        self.refresh(layout=True)

    def _draw(self, width: int) -> tuple[int, Segments, int]:
        """The markdown drawn at `width` (cached): width, segments and line count."""
        if self._drawn is None or self._drawn[0] != width:
            console = self.app.console
            lines = console.render_lines(self._markdown, console.options.update_width(width), pad=False)
            segments: list[Segment] = []
            for line in lines:
                segments.extend(line)
                segments.append(Segment.line())
            if segments:
                segments.pop()
            self._drawn = (width, Segments(segments), len(lines))
        return self._drawn

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._draw(width)[2] if width > 0 else 0

    def render(self) -> RenderableType:
        width = self.content_size.width
        if width <= 0:
            return self._markdown
        return self._draw(width)[1]
