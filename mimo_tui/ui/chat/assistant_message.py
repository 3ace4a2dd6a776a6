"""The assistant's streamed reply: markdown segments written through MarkdownStream, old ones finalised."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

from mimo_tui.ui.chat.finished_markdown import FinishedMarkdown

# A segment past this size is closed at the next paragraph break outside a code fence and
# redrawn as one FinishedMarkdown widget, so the live Markdown widget (a widget per block,
# re-parsed on every write) stays small however long the answer gets.
SEGMENT_CHARS = 500
FENCE = re.compile(r"^\s*(```|~~~)", re.M)


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


class AssistantMessage(Vertical):
    """One model reply; text arrives in coalesced pieces and ends with one full re-render."""

    DEFAULT_CSS = """
    AssistantMessage {
        height: auto;
        margin: 1 0 0 0;
        layout: stream;
    }
    AssistantMessage > Markdown {
        margin: 0;
        padding: 0 1;
        layout: stream;
    }
    AssistantMessage > FinishedMarkdown {
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
        self._live: Markdown | None = None
        self._stream: MarkdownStream | None = None
        self.finished = False

    def compose(self) -> ComposeResult:
        if self._initial:
            self.finished = True
            yield FinishedMarkdown(self._initial)

    async def append(self, text: str) -> None:
        """Add streamed text; a large segment is finalised and a new one started."""
        if not text or self.finished:
            return
        self.source += text
        while text:
            cut = split_point(self._live_source, text)
            if cut is None:
                await self._write(text)
                return
            # The segment is complete: draw it finished straight away, without first growing the live widget.
            await self._finalise_live(extra=text[:cut])
            text = text[cut:]

    async def _write(self, text: str) -> None:
        if self._live is None:
            self._live = Markdown()
            self._live_source = ""
            await self.mount(self._live)
            self._stream = Markdown.get_stream(self._live)
        self._live_source += text
        assert self._stream is not None
        await self._stream.write(text)

    async def _finalise_live(self, extra: str = "") -> None:
        """Replace the live segment (plus `extra` text) by one finished widget, parsed in full once."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        source = self._live_source + extra
        if self._live is not None:
            live = self._live
            await self.mount(FinishedMarkdown(source), before=live)
            await live.remove()
        elif source:
            await self.mount(FinishedMarkdown(source))
        self._live = None
        self._live_source = ""

    async def finish(self, interrupted: bool = False) -> None:
        """Close the stream and re-render the last segment in full."""
        if self.finished:
            return
        await self._finalise_live()
        self.finished = True
        if interrupted:
            self.add_class("interrupted")
            await self.mount(FinishedMarkdown("_interrupted_"))
