"""Search box of the memory pane: full-text hits with snippets first, then fuzzy file and heading names."""

from __future__ import annotations

import threading

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, get_current_worker

from mimo_tui.memory.finder import FinderEntry
from mimo_tui.memory.index import MemoryHit
from mimo_tui.memory.service import MemoryService
from mimo_tui.ui.hit_list import HitList, HitRow
from mimo_tui.ui.quiet_input import QuietInput
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

# How long the echo of a key may wait for its results, so that both reach the screen in one frame.
HOLD_FRAME_S = 0.03


class LatestQuery:
    """The newest query typed, for the one search thread: a query overtaken before it started is never run."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._query: str | None = None
        self.closed = False

    def put(self, query: str) -> None:
        with self._changed:
            self._query = query
            self._changed.notify()

    def close(self) -> None:
        """No more queries: a waiting take() returns at once (the app's exit waits for worker threads)."""
        with self._changed:
            self.closed = True
            self._changed.notify()

    def take(self, timeout: float) -> str | None:
        with self._changed:
            if self._query is None and not self.closed:
                self._changed.wait(timeout)
            query, self._query = self._query, None
            return query


class MemorySearch(ShowsWorkerFailures, Vertical):
    """Type to search memory; Enter or a click on a result jumps to its line."""

    class Jump(Message):
        """Open `relpath` of memory root `root` at `line`."""

        def __init__(self, root: str, relpath: str, line: int) -> None:
            super().__init__()
            self.root, self.relpath, self.line = root, relpath, line

    class ResultsShown(Message):
        """The result list opened (True) or closed (False): the pane widens the search column meanwhile."""

        def __init__(self, shown: bool) -> None:
            super().__init__()
            self.shown = shown

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.memory: MemoryService | None = None
        self.targets: dict[str, tuple[str, str, int]] = {}
        self.shown_query = ""  # the text whose results the list shows
        self.engaged = False  # the results panel is open (from ctrl+f or the first key until focus leaves)
        self._latest = LatestQuery()
        self._searcher: Worker[None] | None = None
        self._hold: Timer | None = None

    def compose(self) -> ComposeResult:
        yield QuietInput(placeholder="search memory (ctrl+f)  scope:… type:…", id="memory-search-input")
        results = HitList(id="memory-results")
        results.display = False
        yield results

    def attach(self, memory: MemoryService) -> None:
        """Search `memory` from now on; its names and index are prepared at once if the box is on screen."""
        self.memory = memory
        if self.region:
            self._prepare()

    def on_show(self) -> None:
        if self.memory is not None:
            self._prepare()

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-prepare")
    def _prepare(self) -> None:
        assert self.memory is not None
        self.memory.prepare_search()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "memory-search-input" and self.memory is not None:
            self._catch_up()

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-catch-up")
    def _catch_up(self) -> None:
        assert self.memory is not None
        self.memory.catch_up()

    def on_unmount(self) -> None:
        self._latest.close()  # the search thread ends now instead of at its next wake-up
        self._release_frame()

    def _hold_frame(self) -> None:
        """Keep the key's echo off the screen until its results are shown (at most HOLD_FRAME_S).

        Textual draws at most one frame per 1/60 s and, after a frame, waits for the next-but-one tick: the echo
        drawn alone would put the results 17-33 ms later. Held, echo and results (a few ms away) share a frame.
        """
        if self._hold is None:
            self.app._begin_batch()
            self._hold = self.set_timer(HOLD_FRAME_S, self._release_frame, name="memory-search-hold")

    def _release_frame(self) -> None:
        if self._hold is not None:
            self._hold.stop()
            self._hold = None
            self.app._end_batch()
            self.screen.check_idle()

    @on(Input.Changed, "#memory-search-input")
    def _query_changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query or self.memory is None:
            if self.engaged:
                self._show_hint()  # the panel stays open while the box has focus: no layout per key
            else:
                self._close()
            return
        # One long-lived thread searches; it takes only the newest text, so a burst of typing searches once for
        # the text it ends with, and no worker is started (three state messages on this thread) per key.
        self._latest.put(query)
        self._hold_frame()
        if self._searcher is None or self._searcher.is_finished:
            self._searcher = self._search_loop()

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-search")
    def _search_loop(self) -> None:
        worker = get_current_worker()
        while not worker.is_cancelled and not self._latest.closed:
            query = self._latest.take(timeout=1.0)
            memory = self.memory
            if query is None or memory is None or worker.is_cancelled:
                continue
            deliver(self, self._show, query, *memory.search_as_typed(query, names=5, hits=30))

    def open(self) -> None:
        """Open the results panel now (ctrl+f), before the first key, so that typing never lays out the screen."""
        self.engaged = True
        if not self.query_one("#memory-search-input", Input).value.strip():
            self._show_hint()

    def _show_hint(self) -> None:
        results = self.query_one("#memory-results", HitList)
        self.targets, self.shown_query = {}, ""
        results.show([HitRow("hint", 1, lambda: [Text("type to search memory: words, scope:… type:…", style="dim")],
                             enabled=False)])
        self._display(results)

    def _display(self, results: HitList) -> None:
        self.engaged = True
        if not results.display:
            results.display = True
        self.post_message(self.ResultsShown(True))  # again after a jump narrowed the column

    def _close(self) -> None:
        self.engaged = False
        results = self.query_one("#memory-results", HitList)
        if results.display:
            results.display = False
        self.post_message(self.ResultsShown(False))

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._close_if_left)

    def _close_if_left(self) -> None:
        focused = self.app.focused
        if self.engaged and (focused is None or self not in focused.ancestors):
            self._close()

    def _show(self, query: str, names: list[FinderEntry], hits: list[MemoryHit]) -> None:
        if self.query_one("#memory-search-input", Input).value.strip() != query:
            return
        results = self.query_one("#memory-results", HitList)
        self.targets = {}
        rows: list[HitRow] = []
        for n, hit in enumerate(hits):
            key = f"hit-{n}"
            self.targets[key] = (hit.root, hit.relpath, hit.line)
            rows.append(HitRow(key, 3, lambda hit=hit: hit_lines(hit)))
        for n, entry in enumerate(names):
            key = f"name-{n}"
            self.targets[key] = (entry.root, entry.relpath, entry.line)
            rows.append(HitRow(key, 1, lambda entry=entry: [Text.assemble(("≡ ", "bold"), entry.label)]))
        if not rows:
            rows.append(HitRow("none", 1, lambda: [Text("no matches", style="dim")], enabled=False))
        results.show(rows)
        self.shown_query = query
        self._display(results)
        self._release_frame()

    @on(Input.Submitted, "#memory-search-input")
    def _submitted(self) -> None:
        results = self.query_one("#memory-results", HitList)
        if results.display and results.rows:
            results.focus()
            results.action_first()

    @on(HitList.Chosen, "#memory-results")
    def _selected(self, event: HitList.Chosen) -> None:
        target = self.targets.get(event.key)
        if target:
            self.post_message(self.Jump(*target))


def hit_lines(hit: MemoryHit) -> list[Text]:
    """Where the hit is and its score, then its snippet with the matched words marked."""
    text, spans = hit.spans()
    snippet = Text("".join(" " if c.isspace() else c for c in text))  # same offsets, one paragraph
    for start, end in spans:
        snippet.stylize("bold reverse", start, end)
    label = f"{hit.relpath}:{hit.line}" if hit.root == "project" else f"{hit.root}:{hit.relpath}:{hit.line}"
    return [Text.assemble((label, "bold"), f"  {hit.score:.2f}"), snippet]

