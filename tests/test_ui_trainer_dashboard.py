"""The trainer pane on a real finished demo run: listing, steps, test report, live tailing and bad data."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from mimo_tui.skillopt.prompts import Trajectory
from mimo_tui.skillopt.step_report import no_edit_reason
from mimo_tui.ui.trainer.numbers import pct
from mimo_tui.ui.trainer.edits_panel import EditsPanel
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
        shown_actions = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert shown_actions == ["all pass" if r["action"] == "no_edits" else r["action"] for r in records]
        for label in ("baseline", "best", "final"):
            assert view.test[label]["score"] == summary["test"][label]["score"]
        report = str(pane.query_one(HeldOutReport).render())
        assert all(pct(summary["test"][label]["score"]) in report for label in ("baseline", "best", "final"))
        assert view.budget["calls"] == summary["spent"]["calls"]
        assert view.best_version == summary["val"]["best"]["version"]
        assert view.diff.startswith("--- v0001 (start)") and "+++ v0002 (best)" in view.diff
        assert view.problems == []


def _no_edit_steps(records: list[dict]) -> list[dict]:
    steps = [r for r in records if r["action"] == "no_edits"]
    assert steps, "the demo run has a step without an edit"
    return steps


async def test_the_dashboard_says_why_a_step_made_no_edit(git_project: Path, demo_run: Path) -> None:
    # What was seen: the progress line and the step record said why a step made no edit; the dashboard said "no_edits".
    run_dir = install_run(git_project, demo_run)
    (quiet,) = _no_edit_steps(step_records(run_dir))
    assert quiet["no_edit_reason"].startswith("nothing to fix: all ")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        table = pane.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == len(pane.view.steps))
        row = table.get_row_at(table.get_row_index(str(quiet["step"])))
        assert str(row[2]) == "all pass"
        panel = str(pane.query_one(EditsPanel).render())
        assert f"Latest step without an edit: step {quiet['step']}" in panel and quiet["no_edit_reason"] in panel


async def test_a_step_whose_edits_were_all_refused_shows_the_top_reason(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    (quiet,) = _no_edit_steps(step_records(run_dir))
    failing = [Trajectory("t1", "in", "out", 0.0, False, "expected 'a', got 'b'")]
    limit = "max_tokens limit: the skill would grow to 2100 tokens (max 2000)"
    reason = no_edit_reason(failing, 2, [], [], [{"status": "refused", "reason": limit}, {"status": "refused", "reason": limit}])
    lines = []
    for line in (run_dir / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "step_finished" and event["step"] == quiet["step"]:
            event["record"]["no_edit_reason"] = reason
        lines.append(json.dumps(event))
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        table = pane.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == len(pane.view.steps))
        assert str(table.get_row_at(table.get_row_index(str(quiet["step"])))[2]) == "refused"
        panel = str(pane.query_one(EditsPanel).render())
        assert f"top reason: {limit} (2 of 2)" in panel


async def test_each_edit_shows_its_credit_once_it_is_scored(git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    (scored,) = [e for e in events if e["type"] == "credit_scored"]
    last_step = max(i for i, e in enumerate(events) if e["type"] == "step_finished")
    assert events.index(scored) > last_step  # scored after the steps, not inside the accepted one
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        assert pane.view.last_accepted is not None and pane.view.last_accepted.step == scored["step"]
        assert pane.view.last_accepted.credit == scored["credit"]
        await wait_until(pilot, lambda: "[fixed " in str(pane.query_one(EditsPanel).render()))
        panel = str(pane.query_one(EditsPanel).render())
        first = scored["credit"][0]
        assert f"[fixed {len(first['fixed'])}, broke {len(first['broke'])}]" in panel


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
        problems_box = pane.query_one("#trainer-problems", Static)
        await wait_until(pilot, lambda: "not valid JSON" in str(problems_box.render()) and problems_box.display)


async def test_no_runs_shows_the_empty_state_and_the_catalogue(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_trainer(app, pilot)
        await wait_until(pilot, lambda: bool(pane.entries))
        empty = pane.query_one("#trainer-empty", Static)
        text = str(empty.render())
        assert EMPTY_TEXT in text and "date-normalizer" in text and "press t" in text
        assert empty.display and not pane.query_one("#trainer-dashboard").display
