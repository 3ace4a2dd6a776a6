"""How the workbench looks: named SVG snapshots at a fixed size, clock and paths fixed."""

from __future__ import annotations

from pathlib import Path

from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def _ready_with_side_tasks(pilot) -> None:
    """The default screen once the chat's session is open and the side column lists its tasks."""
    await pilot.pause()
    app = pilot.app
    await wait_until(pilot, lambda: app.project is not None)
    await wait_until(pilot, lambda: app.services.session_id is not None, timeout=10)
    if app.query_one("#side-column").display:
        await wait_until(pilot, lambda: bool(app.query("#side-tasks")) and app.query_one("#side-tasks").session_id is not None)
    await pilot.pause(0.3)


def test_default_layout_120x40_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    """The chat beside the side column (the session's tasks)."""
    assert snap_compare(make_app(git_project), terminal_size=(120, 40), run_before=_ready_with_side_tasks)


def test_default_layout_80x24_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    """One pane at a time: the chat alone, full width."""
    assert snap_compare(make_app(git_project), terminal_size=(80, 24), run_before=_ready_with_side_tasks)


def test_memory_pane_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    async def open_memory(pilot) -> None:
        await pilot.pause()
        app = pilot.app
        await wait_until(pilot, lambda: app.project is not None)
        app.project.store.write("MEMORY.md", app.project.store.read("MEMORY.md").text + "- deploy port 8421\n",
                                message="memory: user noted the port")
        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(app.query("#memory-pane")))  # mounted on first visit
        pane = app.query_one("#memory-pane")
        await wait_until(pilot, lambda: "8421" in pane.editor.text and "+- deploy port 8421" in pane.diff_text)
        pane.editor.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=open_memory)
