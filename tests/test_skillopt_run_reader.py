"""The run-folder reader in skillopt/ hands the dashboard typed events and a run status (issue 15, "Under the hood")."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from mimo_tui.skillopt import events as ev
from mimo_tui.skillopt.run_folder import RunFolder, skill_version_file
from mimo_tui.skillopt.run_reader import RunFollower, find_new_run, known_runs, run_statuses

PACKAGE = Path(__file__).resolve().parent.parent / "mimo_tui"


def started(run_id: str) -> ev.RunStarted:
    return ev.RunStarted(run_id, "dates", "offline/target", "offline/optimizer", False, {}, {})


def test_a_followed_run_yields_typed_events_the_summary_and_the_best_skill_diff(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    before = known_runs(runs)
    run = RunFolder.create(runs, "dates")
    run.write_json("config.json", {"skill": "dates", "created": time.time()})
    assert find_new_run(runs, before, "dates") == run.run_id and find_new_run(runs, known_runs(runs), "dates") is None
    run.write_skill_version(1, "# Dates\n\nWrite dates.\n")
    follower = RunFollower(run.path)
    first = follower.poll()
    assert first is not None and first.batch.events == [] and first.diff == ""
    run.append_event(started(run.run_id))
    run.write_skill_version(2, "# Dates\n\nWrite dates as YYYY-MM-DD.\n")
    run.append_event(ev.SkillAccepted(1, 2, 0.5, 0.75, None))
    update = follower.poll()
    assert update is not None
    assert [type(item.event) for item in update.batch.events] == [ev.RunStarted, ev.SkillAccepted]
    assert update.batch.events[1].event == ev.SkillAccepted(1, 2, 0.5, 0.75, None)
    assert update.diff is not None and "+Write dates as YYYY-MM-DD." in update.diff and update.summary is None
    assert follower.poll() is None  # nothing new
    run.write_json("summary.json", {"stop_reason": "finished", "val": {"best": {"version": 2}}})
    run.append_event(ev.RunFinished("finished"))
    update = follower.poll()
    assert update is not None and update.summary is not None and update.summary["stop_reason"] == "finished"
    with open(run.path / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    update = follower.poll()
    assert update is not None and any("line 4 is not valid JSON" in problem for problem in update.batch.problems)


def test_run_status_says_finished_running_or_stopped_when_the_process_is_gone(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    finished, live, dead = (RunFolder.create(runs, name) for name in ("a", "b", "c"))
    for number, run in enumerate((finished, live, dead)):
        run.write_json("config.json", {"skill": run.run_id, "created": 1000.0 + number})
        run.append_event(started(run.run_id))
    finished.append_event(ev.RunFinished("finished"))
    old = time.time() - 600
    os.utime(dead.path / "events.jsonl", (old, old))
    statuses = {status.run_id: status for status in run_statuses(runs, live=set())}
    assert statuses[finished.run_id].status == "finished"
    assert statuses[live.run_id].status == "running"
    assert statuses[dead.run_id].status == "stopped" and "crashed or killed" in statuses[dead.run_id].note
    assert [status.run_id for status in run_statuses(runs, live=set())] == [dead.run_id, live.run_id, finished.run_id]


def test_the_skill_version_file_name_is_spelled_in_one_place() -> None:
    spelled = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py") if re.search(r"skill_v\{", path.read_text())]
    assert spelled == ["skillopt/run_folder.py"] and skill_version_file(7) == "skill_v0007.md"
