"""A stretch of an answer drawn with Rich's markdown as one widget, so long conversations stay cheap to lay out."""

from __future__ import annotations

import time

from markdown_it import MarkdownIt
from rich.console import Console, RenderableType
from rich.markdown import Heading, Markdown as RichMarkdown
from rich.segment import Segment, Segments
from rich.text import Text
from textual.geometry import Size
from textual.widgets import Static

from mimo_tui.ui.chat.quiet_resize import QuietResize


class LeftHeading(Heading):
    """Headings aligned left, like Textual's Markdown widget draws them."""

    LEVEL_ALIGN = {f"h{level}": "left" for level in range(1, 7)}


class AnswerMarkdown(RichMarkdown):
    """Rich's markdown with left-aligned headings, parsed by one shared parser.

    Rich builds a new MarkdownIt parser for every Markdown object, which costs 5x the parse of a short
    segment; a streaming answer makes one per write. The parser keeps no state between parses."""

    elements = {**RichMarkdown.elements, "heading_open": LeftHeading}
    _parser: MarkdownIt | None = None

    def __init__(self, markup: str, code_theme: str = "monokai", hyperlinks: bool = False) -> None:
        # What RichMarkdown.__init__ sets (tests/test_answer_markdown.py checks the two draw the same).
        if AnswerMarkdown._parser is None:
            AnswerMarkdown._parser = MarkdownIt().enable("strikethrough").enable("table")
        self.markup = markup
        self.parsed = AnswerMarkdown._parser.parse(markup)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = hyperlinks
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme


def answer_markdown(source: str) -> AnswerMarkdown:
    return AnswerMarkdown(source, code_theme="monokai", hyperlinks=False)


def draw_lines(console: Console, renderable: RenderableType, width: int) -> tuple[Segments, int]:
    """`renderable` drawn at `width` as one run of segments (lines joined by newlines), and its line count."""
    lines = console.render_lines(renderable, console.options.update_width(width), pad=False)
    segments: list[Segment] = []
    for line in lines:
        segments.extend(line)
        segments.append(Segment.line())
    if segments:
        segments.pop()
    return Segments(segments), len(lines)


class RenderCost:
    """Seconds per character that parsing and drawing markdown has been taking (a running average), so the
    stream can keep each frame's rendering short enough that a key press is never held up behind it."""

    seconds_per_char = 10e-6

    @classmethod
    def record(cls, seconds: float, chars: int) -> None:
        # Up at once, down slowly: cheap prose between code blocks must not let a frame take several of them.
        if chars >= 40:
            sample = seconds / chars
            cls.seconds_per_char = max(sample, 0.9 * cls.seconds_per_char + 0.1 * sample)

    @classmethod
    def estimate(cls, chars: int) -> float:
        return cls.seconds_per_char * chars


class AnswerSegment(QuietResize, Static):
    """Markdown parsed and highlighted once per text and width, as a single widget.

    The segment still streaming is redrawn whole on each write (it stays short); while its markdown would
    cost more than a frame affords it is shown as plain text, and drawn as markdown once it closes or the
    stream pauses. Then it simply stops changing.
    """

    DEFAULT_CSS = """
    AnswerSegment { padding: 0 1; margin: 0 0 1 0; }
    """

    def __init__(self, source: str, plain: bool = False) -> None:
        super().__init__()
        self.source = source
        self.plain = plain
        self._markdown: RenderableType = self._renderable()
        self._drawn: tuple[int, Segments, int] | None = None

    def _renderable(self) -> RenderableType:
        started = time.perf_counter()
        renderable: RenderableType = Text(self.source) if self.plain else answer_markdown(self.source)
        self._parse_s = time.perf_counter() - started
        return renderable

    def set_source(self, source: str, plain: bool = False) -> None:
        """Show `source` instead (the streaming segment grew), as plain text or markdown."""
        if source == self.source and plain == self.plain:
            return
        drawn = self._drawn
        self.source = source
        self.plain = plain
        self._markdown = self._renderable()
        self._drawn = None
        if drawn is not None and self.is_attached and self._draw(drawn[0])[2] == drawn[2]:
            self.refresh()  # as tall as before: only this widget is repainted, the screen is not laid out again
        else:
            self.refresh(layout=True)

    def _draw(self, width: int) -> tuple[int, Segments, int]:
        """The markdown drawn at `width` (cached): width, segments and line count."""
        if self._drawn is None or self._drawn[0] != width:
            started = time.perf_counter()
            segments, count = draw_lines(self.app.console, self._markdown, width)
            self._drawn = (width, segments, count)
            if not self.plain:
                RenderCost.record(time.perf_counter() - started + self._parse_s, len(self.source))
        return self._drawn

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._draw(width)[2] if width > 0 else 0

    def render(self) -> RenderableType:
        width = self.content_size.width
        if width <= 0:
            return self._markdown
        return self._draw(width)[1]
