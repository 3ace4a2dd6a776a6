"""Items, not only counts (issue 17): typed events from a run folder, each rollout's answer recorded, a step's
per-item flips with input, expected and output, the lineage of candidates and a diff between any two versions."""

from __future__ import annotations

import json
from pathlib import Path

from mimo_tui.skillopt import events as ev
from mimo_tui.skillopt.flip_table import step_items
from mimo_tui.skillopt.run_reader import read_run_events, version_diff
from mimo_tui.ui.trainer.run_view import RunView
from tests.fixtures.recorded_run import RUN_ID, VAL, write_recorded_run
from tests.fixtures.trainer_runs import step_records


def test_records_become_typed_events_unknown_kinds_skipped_and_a_bad_line_a_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([
        json.dumps(ev.event_to_dict(ev.SkillAccepted(1, 2, 0.5, 0.75, "abc"))),
        json.dumps({"type": "from_a_newer_trainer", "t": 1.0, "x": 1}),
        json.dumps({"type": "skill_accepted", "t": 1.0, "step": 3}),
        "{torn",
    ]) + "\n", encoding="utf-8")
    batch = read_run_events(path)
    assert [item.event for item in batch.events] == [ev.SkillAccepted(1, 2, 0.5, 0.75, "abc"), None]
    assert batch.problems[0] == ("events.jsonl line 3: skill_accepted event is malformed, skipped "
                                 "(no version, val_before, val_after, commit)")
    assert batch.problems[1].startswith("events.jsonl line 4 is not valid JSON, skipped")
    view = RunView("r")
    for item in batch.events:
        view.apply(item.line, item.event)
    assert view.best_version == 2 and view.events_seen == 2 and view.problems == []


def test_the_fold_builds_lineage_credit_and_per_step_items_from_typed_events(tmp_path: Path) -> None:
    run_dir = write_recorded_run(tmp_path)
    batch = read_run_events(run_dir / "events.jsonl")
    assert batch.problems == [] and all(item.event is not None for item in batch.events)
    view = RunView(RUN_ID)
    for item in batch.events:
        view.apply(item.line, item.event)
    assert [(c.label, c.parent, c.step, c.status, c.score) for c in view.lineage] == [
        ("v0001", None, 0, "baseline", 0.5), ("v0002", 1, 1, "accepted", 0.75), ("step 2", 2, 2, "rejected", 0.5),
        ("v0003", 2, 2, "accepted", 1.0)]
    assert [c.by_hand for c in view.lineage] == ["", "", "", "edited"]
    assert view.items_by_step[1] == {item: row[4] for item, row in VAL.items()}
    assert view.credit_by_step[1][0]["fixed"] == ["val-1"] and view.credit_pending == []
    assert view.versions == [1, 2, 3] and view.incumbent_version == 3
    # The version given by hand is not credited with the optimizer's edits of its step (those were rejected).
    assert view.last_accepted.version == 3 and view.last_accepted.edits[0]["op"] == "by hand (edited)"


def test_a_step_table_shows_each_item_with_input_expected_and_both_outputs(tmp_path: Path) -> None:
    run_dir = write_recorded_run(tmp_path)
    items = step_items(run_dir, 1, {item: row[4] for item, row in VAL.items()})
    assert items.problems == []
    by_item = {row.item: row for row in items.rows}
    for item, (task_input, expected, before, after, flip) in VAL.items():
        row = by_item[item]
        assert (row.split, row.flip, row.input, row.expected, row.before, row.after) == (
            "val", flip, task_input, expected, before, after)
    assert [r.item for r in items.of_class("regressed")] == ["val-2"]
    assert [(r.item, r.flip, r.before) for r in items.of_class("train")] == [("train-1", "train_failed", "2003-2-1")]
    missing = step_items(run_dir, 2, {"val-1": "stable"})
    assert missing.problems == ["step 2 has no rollouts.jsonl: outputs were not recorded by the trainer of this run"]
    assert missing.rows[0].before is None


def test_a_real_run_records_every_gated_item_answer(demo_run: Path) -> None:
    # What was seen: the dashboard showed flips as counts only; the run folder held no outputs per item.
    gated = [r for r in step_records(demo_run) if r.get("flips")]
    assert gated
    for record in gated:
        flips = json.loads((demo_run / "steps" / f"step_{record['step']:04d}" / "gate.json").read_text())["items"]
        items = step_items(demo_run, record["step"], flips)
        assert items.problems == []
        val = [row for row in items.rows if row.split == "val"]
        assert len(val) == len(flips) and all(row.input and row.expected for row in val)
        assert all(row.before is not None and row.after is not None for row in val)
        counts = items.counts()
        assert (counts["improved"], counts["regressed"]) == (record["flips"]["improved"], record["flips"]["regressed"])
        assert any(row.split == "train" for row in items.rows)


def test_any_two_versions_diff_and_a_missing_one_is_named(tmp_path: Path) -> None:
    run_dir = write_recorded_run(tmp_path)
    diff = version_diff(run_dir, 1, 2)
    assert diff.startswith("--- v0001/SKILL.md\n+++ v0002/SKILL.md") and "+Pad month and day to two digits." in diff
    assert version_diff(run_dir, 2, 1).count("-Pad month") == 1
    assert version_diff(run_dir, 1, 7) == f"(version v0007 is not in {RUN_ID}/skills/; the run has v0001, v0002, v0003)"
