"""The assistant's streamed reply: markdown segments written through MarkdownStream, old ones finalised."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownStream

# A segment past this size is closed at the next paragraph break outside a code fence, so the
# live Markdown widget (re-parsed on every write) stays small however long the answer gets.
SEGMENT_CHARS = 3_000
FENCE = re.compile(r"^\s*(```|~~~)", re.M)


def split_point(live: str, chunk: str) -> int | None:
    """Where in `chunk` the live segment may end: after the last blank line outside a code fence."""
    if len(live) + len(chunk) < SEGMENT_CHARS:
        return None
    index = chunk.rfind("\n\n")
    while index >= 0:
        if len(FENCE.findall(live + chunk[:index])) % 2 == 0:
            return index + 2
        index = chunk.rfind("\n\n", 0, index)
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
            yield Markdown(self._initial)

    async def append(self, text: str) -> None:
        """Add streamed text; a large segment is finalised and a new one started."""
        if not text or self.finished:
            return
        self.source += text
        cut = split_point(self._live_source, text)
        if cut is not None and self._live is not None:
            await self._write(text[:cut])
            await self._finalise_live()
            text = text[cut:]
        if text:
            await self._write(text)

    async def _write(self, text: str) -> None:
        if self._live is None:
            self._live = Markdown()
            self._live_source = ""
            await self.mount(self._live)
            self._stream = Markdown.get_stream(self._live)
        self._live_source += text
        assert self._stream is not None
        await self._stream.write(text)

    async def _finalise_live(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if self._live is not None:
            # One full parse at the end repairs anything the incremental appends half-parsed.
            await self._live.update(self._live_source)
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
            await self.mount(Markdown("_interrupted_"))
