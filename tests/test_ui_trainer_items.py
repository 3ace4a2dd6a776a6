"""The dashboard replays a recorded events.jsonl and shows items, not only counts (issue 17): a step's item table
filtered by class, credit per accepted edit, the lineage of candidates with a diff between versions, spend warnings."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from mimo_tui.project import Project
from mimo_tui.ui.trainer.credit_panel import CreditPanel
from mimo_tui.ui.trainer.diff_screen import VersionDiffScreen
from mimo_tui.ui.trainer.flip_screen import FlipScreen
from mimo_tui.ui.trainer.lineage_table import LineageTable
from mimo_tui.ui.trainer.spend_panel import SpendPanel
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.recorded_run import write_recorded_run
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def test_recorded_run_shows_items_credit_lineage_diff_and_spend(git_project: Path) -> None:
    # What was seen: the dashboard showed flips as counts only.
    write_recorded_run(Project.open(git_project).workspace.runs_dir)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        lineage = pane.query_one(LineageTable)
        await wait_until(pilot, lambda: lineage.row_count == 4)
        rows = [[str(cell) for cell in lineage.get_row_at(i)] for i in range(4)]
        assert rows == [["v0001", "—", "—", "baseline", "50.0%", ""],
                        ["v0002", "v0001", "1", "accepted", "75.0%", "optimizer"],
                        ["step 2", "v0002", "2", "rejected", "50.0%", "optimizer"],
                        ["v0003", "v0002", "2", "accepted", "100.0%", "by hand (edited)"]]
        credit = str(pane.query_one(CreditPanel).render())
        assert "append: Write dates as YYYY-MM-DD.  fixed 1, broke 1  (val-1, -val-2)" in credit
        spend = str(pane.query_one(SpendPanel).render())
        assert "⚠ 80% of the dollar cap spent" in spend
        def toasts() -> int:
            return len([n for n in app._notifications if "cap spent" in str(n.message)])

        await wait_until(pilot, lambda: toasts() >= 1)  # posted beside the panel's update (a frame later under load)
        assert toasts() == 1
        await pilot.pause(0.6)  # more redraws: the toast is not repeated
        assert toasts() == 1

        steps = pane.query_one("#trainer-steps", DataTable)
        steps.focus()
        steps.move_cursor(row=0)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FlipScreen))
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 5  # four validation items and one training item
        await pilot.press("g")
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["val-2"]
        detail = str(screen.query_one("#flips-detail", Static).render())
        assert "input: Due 2024-01-05" in detail and "expected: 2024-01-05" in detail
        assert "output before (incumbent): 2024-01-05" in detail and "output after (candidate): 2024-05-01" in detail
        await pilot.press("t")
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == ["failed"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FlipScreen))

        lineage.focus()
        lineage.move_cursor(row=1)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, VersionDiffScreen))
        assert "+Pad month and day to two digits." in app.screen.diff and "v0001 → v0002" in app.screen.title_text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, VersionDiffScreen))
        lineage.focus()
        lineage.move_cursor(row=1)
        await pilot.press("m")
        lineage.move_cursor(row=0)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, VersionDiffScreen))
        assert "v0002 → v0001" in app.screen.title_text and "-Pad month and day" in app.screen.diff


async def test_a_candidate_edited_in_the_pane_lands_in_the_runs_inbox(git_project: Path) -> None:
    from textual.widgets import TextArea

    from mimo_tui.skillopt.steering import pending_candidates
    from mimo_tui.ui.trainer.candidate_editor import CandidateEditor
    from tests.fixtures.recorded_run import V3

    run_dir = write_recorded_run(Project.open(git_project).workspace.runs_dir, finished=False)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.incumbent_version == 3)
        pane.focus()
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, CandidateEditor))
        editor = app.screen.query_one(TextArea)
        assert editor.text == V3  # the incumbent, to edit
        editor.move_cursor(editor.document.end)
        editor.insert("Answer with the date only.\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: pending_candidates(run_dir)[0])
        (given,), _ = pending_candidates(run_dir)
        assert (given.kind, given.text) == ("edited", V3 + "Answer with the date only.\n")
        await wait_until(pilot, lambda: any("taken at the next step boundary" in str(n.message) for n in app._notifications))
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(app.screen, CandidateEditor))
        await pilot.press("ctrl+s")  # an empty feedback box gives nothing
        await wait_until(pilot, lambda: any("the text is empty" in str(n.message) for n in app._notifications))
        assert len(pending_candidates(run_dir)[0]) == 1
