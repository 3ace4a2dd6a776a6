"""How the trainer dashboard of a finished demo run looks (times frozen, fixed run id and commit dates)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable

from mimo_tui.ui.trainer.credit_panel import CreditPanel
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.trainer_runs import install_run
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


def test_trainer_dashboard_snapshot(git_project: Path, fixed_git_dates: None, demo_run: Path, snap_compare) -> None:
    install_run(git_project, demo_run, freeze=True)

    async def open_trainer(pilot) -> None:
        await pilot.pause()
        app = pilot.app
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))  # mounted on first visit
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.summary is not None and bool(pane.entries))
        await wait_until(pilot, lambda: pane.query_one(DataTable).row_count == 3)
        await pilot.pause(0.4)

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=open_trainer)


def test_trainer_step_items_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    """The item table of a recorded run's accepted step, open over the dashboard, the regressed item highlighted."""
    from mimo_tui.project import Project
    from mimo_tui.ui.trainer.flip_screen import FlipScreen
    from tests.fixtures.recorded_run import write_recorded_run

    write_recorded_run(Project.open(git_project).workspace.runs_dir)

    async def open_items(pilot) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))  # mounted on first visit
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished and bool(pane.entries))
        steps = pane.query_one("#trainer-steps", DataTable)
        await wait_until(pilot, lambda: steps.row_count == 2)
        await wait_until(pilot, lambda: any("cap spent" in str(n.message) for n in app._notifications))
        app.clear_notifications()  # the spend toast (tested elsewhere) would cover the table
        # Focused without scrolling the dashboard: under load its layout can still be settling when the table takes the
        # keyboard, and a scroll then would move what shows above the modal (the snapshot is about the item table).
        steps.focus(scroll_visible=False)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FlipScreen))
        await pilot.press("down")
        await wait_until(pilot, lambda: app.screen.query_one(DataTable).cursor_row == 1)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.3)

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=open_items)


def test_trainer_dashboard_mid_run_snapshot(git_project: Path, fixed_git_dates: None, snap_compare) -> None:
    """A run still working: its recorded process is alive (this test's own), no run_finished event yet."""
    import json
    import os
    import socket

    from mimo_tui.project import Project
    from tests.fixtures.recorded_run import write_recorded_run

    run = write_recorded_run(Project.open(git_project).workspace.runs_dir, finished=False)
    (run / "process.json").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": 0}))

    async def open_trainer(pilot) -> None:
        app = pilot.app
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and bool(pane.rows) and pane.rows[0].status == "running")
        await wait_until(pilot, lambda: pane.query_one("#trainer-steps", DataTable).row_count == 2)
        await wait_until(pilot, lambda: any("cap spent" in str(n.message) for n in app._notifications))
        app.clear_notifications()
        # Both fill in on their own timers: wait for them so the picture does not depend on the machine's speed.
        await wait_until(pilot, lambda: "step 1" in str(pane.query_one(CreditPanel).render()))
        await wait_until(pilot, lambda: "training dates" in str(app.query_one("#work-status").render()))
        await pilot.pause(0.3)

    assert snap_compare(make_app(git_project), terminal_size=SIZE, run_before=open_trainer)
