"""Search box of the memory pane: full-text hits with snippets first, then fuzzy file and heading names."""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from mimo_tui.memory.finder import FinderEntry
from mimo_tui.memory.index import MemoryHit
from mimo_tui.memory.service import MemoryService
from mimo_tui.ui.quiet_input import QuietInput
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver


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

    def compose(self) -> ComposeResult:
        yield QuietInput(placeholder="search memory (ctrl+f)  scope:… type:…", id="memory-search-input")
        results = OptionList(id="memory-results")
        results.display = False
        yield results

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "memory-search-input" and self.memory is not None:
            self._catch_up()

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-catch-up")
    def _catch_up(self) -> None:
        assert self.memory is not None
        self.memory.catch_up()

    @on(Input.Changed, "#memory-search-input")
    def _query_changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        results = self.query_one("#memory-results", OptionList)
        if not query or self.memory is None:
            results.display = False
            self.post_message(self.ResultsShown(False))
            return
        # A search takes milliseconds now: no pause is waited for; keys already queued are handled first, so a
        # burst of typing searches once, for the text it ends with.
        self.call_later(self._search_if_current, query)

    def _search_if_current(self, query: str) -> None:
        if self.query_one("#memory-search-input", Input).value.strip() == query:
            self.search(query)

    @work(thread=True, exit_on_error=False, exclusive=True, group="memory-search")
    def search(self, query: str) -> list:
        memory = self.memory
        assert memory is not None
        deliver(self, self._show, query, *memory.search_as_typed(query, names=5, hits=30))

    def _show(self, query: str, names: list[FinderEntry], hits: list[MemoryHit]) -> None:
        if self.query_one("#memory-search-input", Input).value.strip() != query:
            return
        results = self.query_one("#memory-results", OptionList)
        self.targets = {}
        options: list[Option] = []
        for n, hit in enumerate(hits):
            key = f"hit-{n}"
            self.targets[key] = (hit.root, hit.relpath, hit.line)
            text, spans = hit.spans()
            snippet = Text("".join(" " if c.isspace() else c for c in text))  # same offsets, one line
            for start, end in spans:
                snippet.stylize("bold reverse", start, end)
            label = f"{hit.relpath}:{hit.line}" if hit.root == "project" else f"{hit.root}:{hit.relpath}:{hit.line}"
            options.append(Option(Text.assemble((label, "bold"), f"  {hit.score:.2f}\n  ", snippet), id=key))
        for n, entry in enumerate(names):
            key = f"name-{n}"
            self.targets[key] = (entry.root, entry.relpath, entry.line)
            options.append(Option(Text.assemble(("≡ ", "bold"), entry.label), id=key))
        if not options:
            options.append(Option(Text("no matches", style="dim"), id="none", disabled=True))
        # In one step: clearing first sets the list's size to nothing and back, and each lays out the screen.
        results.set_options(options)
        results.display = True
        self.post_message(self.ResultsShown(True))  # again after a jump narrowed the column

    @on(Input.Submitted, "#memory-search-input")
    def _submitted(self) -> None:
        results = self.query_one("#memory-results", OptionList)
        if results.display and results.option_count:
            results.focus()
            results.highlighted = 0

    @on(OptionList.OptionSelected, "#memory-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        target = self.targets.get(event.option.id or "")
        if target:
            self.post_message(self.Jump(*target))

