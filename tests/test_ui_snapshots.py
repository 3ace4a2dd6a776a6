"""How the workbench looks: named SVG snapshots at a fixed size, clock and paths fixed."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


def test_workbench_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    async def ready(pilot) -> None:
        await pilot.pause()
        await wait_until(pilot, lambda: pilot.app.project is not None)
        await wait_until(pilot, lambda: pilot.app.query_one("#chat-pane").agent is not None)
        await pilot.pause()

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=ready)


def test_memory_pane_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    async def open_memory(pilot) -> None:
        await pilot.pause()
        app = pilot.app
        await wait_until(pilot, lambda: app.project is not None)
        app.project.store.write("MEMORY.md", app.project.store.read("MEMORY.md").text + "- deploy port 8421\n",
                                message="memory: user noted the port")
        await pilot.press("f2")
        pane = app.query_one("#memory-pane")
        await wait_until(pilot, lambda: "8421" in pane.editor.text and "+- deploy port 8421" in pane.diff_text)
        pane.editor.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=open_memory)
