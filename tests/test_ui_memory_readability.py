"""The memory pane tells the truth about the open file: unsaved edits, changes on disk, search hits first."""

from __future__ import annotations

import threading
from pathlib import Path

from mimo_tui.ui.hit_list import HitList

from tests.fixtures.chat_app import type_quickly
from tests.fixtures.ui import make_app, wait_until
from tests.test_ui_memory_pane import SIZE, open_memory_pane


def title(pane) -> str:
    return str(pane.query_one("#memory-title").render())


async def test_unsaved_edits_are_marked_until_saved(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        assert "unsaved" not in title(pane)
        pane.editor.focus()
        await pilot.press("end", "x", "y")
        await wait_until(pilot, lambda: "● unsaved" in title(pane))
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "unsaved" not in title(pane) and not pane.dirty)


async def test_a_change_on_disk_while_editing_is_announced_with_choices(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.focus()
        await pilot.press("end", *"mine")
        await wait_until(pilot, lambda: pane.dirty)
        theirs = pane.loaded.text + "- written by someone else\n"
        writer = threading.Thread(target=lambda: app.project.store.write("MEMORY.md", theirs, message="memory: dream tidied"))
        writer.start()
        writer.join()
        bar = pane.query_one("#memory-disk-change")
        await wait_until(pilot, lambda: bar.display and bar.query_one("#disk-diff").region.width > 0)
        text = str(bar.query_one("#memory-disk-change-text").render())
        assert "changed on disk" in text and "MEMORY.md" in text
        assert {b.id for b in bar.query("Button")} == {"disk-reload", "disk-keep", "disk-diff"}
        await pilot.click("#disk-diff")
        await wait_until(pilot, lambda: "+- written by someone else" in pane.diff_text or "-- written by someone else" in pane.diff_text)
        assert "mine" in pane.editor.text
        await pilot.pause(0.6)  # two clicks in a row would be a double click
        await pilot.click("#disk-keep")
        await pilot.pause(0.3)
        await wait_until(pilot, lambda: not bar.display)
        assert "mine" in pane.editor.text and pane.loaded.text == theirs
        await pilot.press("ctrl+s")  # keeping mine means saving over theirs, knowingly: no conflict dialog
        await wait_until(pilot, lambda: not pane.dirty and "mine" in app.project.store.read("MEMORY.md").text)


async def test_search_lists_text_hits_before_file_names_in_a_readable_width(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        app.project.store.write("notes/pytest-tips.md", "# Tips\n\nnothing here about the runner\n", message="memory: tips")
        app.project.store.write("MEMORY.md", pane.editor.text + "\n- run the suite with pytest -x -q\n")
        await wait_until(pilot, lambda: "pytest -x" in pane.editor.text)
        await pilot.press("ctrl+f")
        await type_quickly(pilot, "pytest")
        search = pane.query_one("MemorySearch")
        results = pane.query_one("#memory-results", HitList)
        await wait_until(pilot, lambda: results.display and any(k.startswith("hit-") for k in search.targets)
                         and any(k.startswith("name-") for k in search.targets))
        ids = results.keys
        first_name = next(i for i, key in enumerate(ids) if key.startswith("name-"))
        last_hit = max(i for i, key in enumerate(ids) if key.startswith("hit-"))
        assert last_hit < first_name, ids
        await wait_until(pilot, lambda: results.region.width >= 50)
        assert pane.editor.region.width >= 40
