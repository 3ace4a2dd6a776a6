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
        pane = await open_memory_pane(app, pilot)
        memory = app.services.memory
        # Prepared as the pane opened, before any key: the first keystroke is like the others.
        await wait_until(pilot, lambda: memory.search_prepared, timeout=10)
        app.project.store.write("notes/words.md", WORDS, message="memory: words")
        search = pane.query_one(MemorySearch)
        box = search.query_one("#memory-search-input", Input)
        results = search.query_one("#memory-results", HitList)
        await pilot.press("ctrl+f")
        await pilot.press("a")
        await wait_until(pilot, lambda: search.shown_query == "a" and results.display)
        searcher = search._searcher

        layouts: list[object] = []
        screen = app.screen
        lay_out = screen._refresh_layout

        def counted(*args: object, **kwargs: object) -> None:
            layouts.append(args)
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]  # observes only
        counts: set[int] = set()
        for key in [*"lphabet", *["backspace"] * 4, *"anumeric", *["backspace"] * 9, *"ine"]:
            await pilot.press(key)
            await wait_until(pilot, lambda: search.shown_query == box.value.strip())
            counts.add(len(results.rows))
        assert box.value == "alpine"
        assert len(counts) >= 3, counts  # the number of results changed as the text did
        assert layouts == [], f"{len(layouts)} screen layouts while typing"
        assert search._searcher is searcher and not searcher.is_finished  # one thread for every key
        assert [key for key in results.keys if key.startswith("hit-")]
