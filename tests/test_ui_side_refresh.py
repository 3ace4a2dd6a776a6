"""The side trainer and the work-status line redraw only when what they show changes.

`Static.update` re-lays out the whole screen (the chat with a long answer included); a run appending 200
events/s must not make that happen every second while the summary reads the same.
"""

from __future__ import annotations

import time
from pathlib import Path

from mimo_tui.skillopt.events import RolloutProgress, RunStarted
from mimo_tui.skillopt.run_folder import RunFolder
from tests.fixtures.ui import make_app, wait_until

WIDE = (120, 40)


def start_run(project: Path) -> RunFolder:
    folder = RunFolder.create(project / ".mimo" / "runs", "side-skill")
    folder.write_json("config.json", {"skill": "side-skill", "created": time.time()})
    folder.write_json("runtime_state.json", {"global_step": 1, "accepted": [], "best_val": 0.5})
    folder.append_event(RunStarted(folder.run_id, "side-skill", "t", "o", False, {}, {}))
    return folder


async def test_a_busy_run_does_not_redraw_an_unchanged_side_trainer_or_status_line(git_project: Path) -> None:
    (git_project / ".mimo").mkdir(exist_ok=True)
    (git_project / ".mimo" / "config.toml").write_text('[ui]\nside = "trainer"\n', encoding="utf-8")
    folder = start_run(git_project)
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: bool(app.query("#side-trainer-summary")), timeout=10)
        summary = app.query_one("#side-trainer-summary")
        status = app.query_one("#work-status")
        await wait_until(pilot, lambda: "side-skill" in str(summary.content) and "side-skill" in str(status.content),
                         timeout=10)
        shown_summary, shown_status = summary.content, status.content
        for n in range(30):  # events keep arriving for more than two refresh periods
            folder.append_event(RolloutProgress("train", n, 100, 0))
            await pilot.pause(0.1)
        assert str(summary.content) == str(shown_summary)
        assert summary.content is shown_summary, "the side trainer was redrawn with the same text"
        assert status.content is shown_status, "the work-status line was redrawn with the same text"
