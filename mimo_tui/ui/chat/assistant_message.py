"""The assistant's streamed reply: short markdown segments, the last one redrawn as text arrives, the closed
ones settled into one widget that never redraws them."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer

from mimo_tui.ui.chat.quiet_resize import QuietResize
from mimo_tui.ui.chat.answer_segment import AnswerSegment, RenderCost
from mimo_tui.ui.chat.settled_answer import SettledAnswer

# The streaming segment is closed at the next paragraph break outside a code fence once it is this
# long, and a new one begins: each write redraws only the short live segment, however long the answer.
SEGMENT_CHARS = 300
FENCE = re.compile(r"^\s*(```|~~~)", re.M)
# The live segment's markdown is redrawn on every write only while that costs less than this (less
# when text arrives faster than frames draw it); past it (a long code block) it shows as plain text
# until it closes or the stream pauses this long. A key press waits at most about this long behind it.
LIVE_MARKDOWN_BUDGET_S = 0.012
HURRIED_LIVE_MARKDOWN_BUDGET_S = 0.004
PAUSE_BEFORE_MARKDOWN_S = 0.3


def split_point(live: str, chunk: str) -> int | None:
    """Where in `chunk` the live segment may end: the first blank line outside a code fence once it is big enough."""
    need = SEGMENT_CHARS - len(live)
    if len(chunk) < need:
        return None
    index = chunk.find("\n\n", max(0, need))
    fences_before = len(FENCE.findall(live))
    counted_to = 0
    while index >= 0:
        fences_before += len(FENCE.findall(chunk[counted_to:index]))
        counted_to = index
        if fences_before % 2 == 0:
            return index + 2
        index = chunk.find("\n\n", index + 2)
    return None


class AssistantMessage(QuietResize, Vertical):
    """One model reply; text arrives in coalesced pieces."""

    DEFAULT_CSS = """
    AssistantMessage {
        height: auto;
        margin: 1 0 0 0;
        layout: stream;
    }
    AssistantMessage > AnswerSegment {
        margin: 0 0 1 0;
    }
    AssistantMessage.interrupted {
        border-left: thick $warning;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._initial = text
        self.source = text
        self._live_source = ""
        self._live: AnswerSegment | None = None
        self._settled: SettledAnswer | None = None
        self._pause_timer: Timer | None = None
        self.finished = False
        self.shown_chars = len(text)  # how much of `source` the widgets show (text appended is shown by `_show`)

    def compose(self) -> ComposeResult:
        if self._initial:
            self.finished = True
            yield AnswerSegment(self._initial)

    async def append(self, text: str, hurried: bool = False, show: bool = True) -> None:
        """Add streamed text; a segment that grew long enough is closed and a new one started. `hurried`:
        text is arriving faster than frames draw it. `show=False`: more follows at once, so closed segments are
        drawn now but the screen is laid out only when the last piece is shown (once, not once per piece)."""
        if self.finished:
            return
        self.source += text
        while text:
            cut = split_point(self._live_source, text)
            if cut is None:
                self._live_source += text
                break
            await self._settle(self._live_source + text[:cut])
            text = text[cut:]
        if show:
            await self._show(hurried)

    @property
    def parts(self) -> list[str]:
        """The answer's segments so far: the closed ones, then the live one."""
        settled = self._settled.sources if self._settled is not None else []
        return [*settled, *(segment.source for segment in self.query(AnswerSegment) if segment.source)]

    async def _settle(self, source: str) -> None:
        """The live segment closed: its text joins the settled part (drawn now, shown with the next `_show`)."""
        if self._settled is None:
            self._settled = SettledAnswer()
            await self.mount(self._settled, before=self._live)
        self._settled.add(source)
        self._live_source = ""

    async def _show(self, hurried: bool = False) -> None:
        """Put the settled parts and the live segment's text on the screen."""
        self.shown_chars = len(self.source)
        if self._pause_timer is not None:
            self._pause_timer.stop()
            self._pause_timer = None
        if self._settled is not None:
            self._settled.show()
        if not self._live_source:
            if self._live is not None and self._live.display:
                self._live.set_source("")
                self._live.display = False  # waits, hidden, for the next segment's text
            return
        budget = HURRIED_LIVE_MARKDOWN_BUDGET_S if hurried else LIVE_MARKDOWN_BUDGET_S
        plain = RenderCost.estimate(len(self._live_source)) > budget
        if self._live is None:
            self._live = AnswerSegment(self._live_source, plain=plain)
            await self.mount(self._live)
        else:
            self._live.set_source(self._live_source, plain=plain)
            self._live.display = True
        if plain:
            self._pause_timer = self.set_timer(PAUSE_BEFORE_MARKDOWN_S, self._draw_live_markdown)

    def _draw_live_markdown(self) -> None:
        """The stream paused: the live segment is worth drawing as markdown until more arrives."""
        self._pause_timer = None
        if self._live is not None:
            self._live.set_source(self._live_source, plain=False)

    async def finish(self, interrupted: bool = False) -> None:
        """Stop streaming; an interrupted reply says so."""
        if self.finished:
            return
        self.shown_chars = len(self.source)
        if self._pause_timer is not None:
            self._pause_timer.stop()
            self._pause_timer = None
        if self._settled is not None:
            self._settled.show()
        if self._live_source and self._live is None:
            await self.mount(AnswerSegment(self._live_source))
        elif self._live_source and self._live is not None:
            self._live.set_source(self._live_source, plain=False)
            self._live.display = True
        elif self._live is not None:
            await self._live.remove()
        self._live = None
        self.finished = True
        if interrupted:
            self.add_class("interrupted")
            await self.mount(AnswerSegment("_interrupted_"))
