"""The trainer pane on a real finished demo run: listing, steps, test report, live tailing and bad data."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.run_list import RunList
from mimo_tui.ui.trainer.held_out_report import HeldOutReport
from mimo_tui.ui.trainer_pane import EMPTY_TEXT, TrainerPane
from tests.fixtures.trainer_runs import FIXED_RUN_ID, install_run, step_records
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def open_trainer(app, pilot) -> TrainerPane:
    await wait_until(pilot, lambda: app.project is not None)
    await pilot.press("f4")
    await wait_until(pilot, lambda: app.query(TrainerPane) and app.query_one(TrainerPane).project is not None)
    return app.query_one(TrainerPane)


async def test_finished_run_is_listed_with_its_steps_and_test_report(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    summary = json.loads((run_dir / "summary.json").read_text())
    records = step_records(run_dir)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished and pane.view.summary is not None)
        await wait_until(pilot, lambda: pane.query_one(DataTable).row_count == len(records))
        (row,) = pane.query_one(RunList).rows
        assert (row.run_id, row.skill, row.status) == (FIXED_RUN_ID, "date-normalizer", "finished")
        assert row.final_test == summary["test"]["final"]["score"]
        view = pane.view
        assert [s.step for s in view.steps.values()] == [r["step"] for r in records]
        for record in records:
            shown = view.steps[record["step"]]
            assert (shown.action, shown.val_before, shown.val_after) == (record["action"], record["val_before"], record.get("val_after"))
            assert (shown.applied, shown.skipped, shown.refused) == (record["applied"], record["skipped"], record["refused"])
            assert (shown.improved, shown.regressed) == (record.get("flips", {}).get("improved", 0), record.get("flips", {}).get("regressed", 0))
        table = pane.query_one(DataTable)
        assert [str(table.get_row_at(i)[2]) for i in range(table.row_count)] == [r["action"] for r in records]
        for label in ("baseline", "best", "final"):
            assert view.test[label]["score"] == summary["test"][label]["score"]
        report = str(pane.query_one(HeldOutReport).render())
        assert all(pct(summary["test"][label]["score"]) in report for label in ("baseline", "best", "final"))
        assert view.budget["calls"] == summary["spent"]["calls"]
        assert view.best_version == summary["val"]["best"]["version"]
        assert view.diff.startswith("--- v0001 (start)") and "+++ v0002 (best)" in view.diff
        assert view.problems == []


async def test_dashboard_follows_a_growing_event_log(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    events_path = run_dir / "events.jsonl"
    lines = events_path.read_text().splitlines(keepends=True)
    first_step_end = next(i for i, line in enumerate(lines) if '"step_finished"' in line) + 1
    events_path.write_text("".join(lines[:first_step_end]))
    (run_dir / "summary.json").unlink()
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and list(pane.view.steps) == [1])
        assert pane.query_one(RunList).rows[0].status == "running"
        await wait_until(pilot, lambda: pane.query_one(DataTable).row_count == 1)
        rest = "".join(lines[first_step_end:])
        cut = rest.index('"step_finished"') + 20
        with open(events_path, "a") as handle:
            handle.write(rest[:cut])  # a line cut mid-write, as a writer in another process may leave it
        await pilot.pause(0.7)
        assert list(pane.view.steps) == [1]
        (run_dir / "summary.json").write_text(json.dumps(json.loads(lines[-1])["summary"]))
        with open(events_path, "a") as handle:
            handle.write(rest[cut:])
        await wait_until(pilot, lambda: pane.view.finished and len(pane.view.steps) == 3)
        await wait_until(pilot, lambda: pane.query_one(DataTable).row_count == 3)
        assert pane.view.problems == []
        assert pane.view.status == "finished"


async def test_a_run_started_elsewhere_is_not_stopped_from_here(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    lines = (run_dir / "events.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "events.jsonl").write_text("".join(lines[:10]))
    (run_dir / "summary.json").unlink()
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.rows and pane.rows[0].status == "running")
        await pilot.press("x")
        await wait_until(pilot, lambda: any("started elsewhere" in str(n.message) for n in app._notifications))


async def test_corrupt_line_and_missing_summary_are_reported(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    events_path = run_dir / "events.jsonl"
    lines = events_path.read_text().splitlines(keepends=True)
    lines.insert(5, '{"type": "step_started", "epoch": 1, "st\n')
    lines.insert(7, '{"type": "step_finished", "step": 9}\n')
    events_path.write_text("".join(lines))
    (run_dir / "summary.json").unlink()
    old = time.time() - 3600
    os.utime(events_path, (old, old))
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished and len(pane.view.problems) >= 3)
        problems = "\n".join(pane.view.problems)
        assert "line 6 is not valid JSON" in problems
        assert "line 8: step_finished event is malformed" in problems
        assert "summary.json is missing" in problems
        assert len(pane.view.steps) == 3
        assert pane.view.test["final"]["score"] is not None
        await pilot.pause(0.4)
        shown = str(pane.query_one("#trainer-problems", Static).render())
        assert "not valid JSON" in shown and pane.query_one("#trainer-problems").display


async def test_no_runs_shows_the_empty_state_and_the_catalogue(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: bool(pane.entries))
        empty = pane.query_one("#trainer-empty", Static)
        text = str(empty.render())
        assert EMPTY_TEXT in text and "date-normalizer" in text and "press t" in text
        assert empty.display and not pane.query_one("#trainer-dashboard").display
