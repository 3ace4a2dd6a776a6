"""Typing in the memory pane's search as the user feels it (issue 21): the names and index are prepared when the
pane opens, one long-lived search thread serves every key, and new results repaint the list without laying out
the screen."""

from __future__ import annotations

from pathlib import Path

from textual.widget import Widget
from textual.widgets import Input

from mimo_tui.ui.hit_list import HitList
from mimo_tui.ui.memory_search import MemorySearch
from tests.fixtures.ui import make_app, wait_until
from tests.test_ui_memory_pane import SIZE, open_memory_pane

WORDS = """# Words

## Alpha one
alpha alphabet alphanumeric

## Alphabet soup
alphabet soup, alphabet again

## Alphanumeric keys
alphanumeric keys only

## Alpine
alpine lakes
"""


async def test_typed_keys_repaint_the_results_only_through_one_search_thread(git_project: Path, monkeypatch) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        app.project.store.write("notes/words.md", WORDS, message="memory: words")
        pane = await open_memory_pane(app, pilot)
        memory = app.services.memory
        # Prepared as the pane opened, before any key: the first keystroke is like the others.
        await wait_until(pilot, lambda: memory.search_prepared, timeout=10)
        search = pane.query_one(MemorySearch)
        box = search.query_one("#memory-search-input", Input)
        results = search.query_one("#memory-results", HitList)
        await pilot.press("ctrl+f")  # opens the results panel (widened) before the first key
        await wait_until(pilot, lambda: results.display and results.keys == ["hint"] and pane.has_class("searching"))
        await pilot.pause(0.1)

        # Layouts the search asks for (its box, its list, its panel): other widgets may still settle meanwhile.
        layouts: list[str] = []
        refresh = Widget.refresh

        def observed(widget: Widget, *regions: object, **flags: bool) -> Widget:
            if flags.get("layout") and (widget is search or search in widget.ancestors):
                layouts.append(type(widget).__name__)
            return refresh(widget, *regions, **flags)

        monkeypatch.setattr(Widget, "refresh", observed)  # observes only
        counts: set[int] = set()
        searcher = None
        for key in [*"alphabet", *["backspace"] * 4, *"anumeric", *["backspace"] * 9, *"ine"]:
            await pilot.press(key)
            await wait_until(pilot, lambda: search.shown_query == box.value.strip())
            counts.add(len(results.rows))
            searcher = searcher or search._searcher
            assert pane.has_class("searching") and results.display
        assert box.value == "alpine"
        assert len(counts) >= 3, counts  # the number of results changed as the text did
        box.value = ""  # an emptied box keeps the panel open, with its hint
        await wait_until(pilot, lambda: results.keys == ["hint"])
        assert layouts == [], f"layouts asked while typing: {layouts}"
        assert search._searcher is searcher and not searcher.is_finished  # one thread for every key
        monkeypatch.undo()
        pane.editor.focus()  # leaving the search closes the panel
        await wait_until(pilot, lambda: not results.display and not pane.has_class("searching"))
