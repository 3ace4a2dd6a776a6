"""Typing in the memory pane's search as the user feels it (issue 21): the names and index are prepared when the
pane opens, one long-lived search thread serves every key, and new results repaint the list without laying out
the screen."""

from __future__ import annotations

from pathlib import Path

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


async def test_typed_keys_repaint_the_results_only_through_one_search_thread(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        app.project.store.write("notes/words.md", WORDS, message="memory: words")
        pane = await open_memory_pane(app, pilot)
        memory = app.services.memory
        # Prepared as the pane opened, before any key: the first keystroke is like the others.
        await wait_until(pilot, lambda: memory.search_prepared, timeout=10)
        await pilot.pause(0.2)  # the file tree and history have settled
        search = pane.query_one(MemorySearch)
        box = search.query_one("#memory-search-input", Input)
        results = search.query_one("#memory-results", HitList)
        await pilot.press("ctrl+f")  # opens the results panel (widened) before the first key
        await wait_until(pilot, lambda: results.display and results.keys == ["hint"])
        await pilot.pause(0.1)

        layouts: list[object] = []
        screen = app.screen
        lay_out = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            layouts.append(args)
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]  # observes only
        counts: set[int] = set()
        searcher = None
        for key in [*"alphabet", *["backspace"] * 4, *"anumeric", *["backspace"] * 9, *"ine"]:
            await pilot.press(key)
            await wait_until(pilot, lambda: search.shown_query == box.value.strip())
            counts.add(len(results.rows))
            searcher = searcher or search._searcher
        assert box.value == "alpine"
        assert len(counts) >= 3, counts  # the number of results changed as the text did
        box.value = ""  # an emptied box keeps the panel open, with its hint
        await wait_until(pilot, lambda: results.keys == ["hint"])
        assert layouts == [], f"{len(layouts)} screen layouts while typing"
        assert search._searcher is searcher and not searcher.is_finished  # one thread for every key
        pane.editor.focus()  # leaving the search closes the panel
        await wait_until(pilot, lambda: not results.display and not pane.has_class("searching"))
