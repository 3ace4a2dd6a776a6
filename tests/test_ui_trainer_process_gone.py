"""A run started from the shell is followed by the dashboard; killed with kill -9, it shows as gone and resumes at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mimo_tui
from mimo_tui.ui.trainer.run_list import RunList
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


def shell_training(project: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(mimo_tui.__file__).resolve().parent.parent)}
    return subprocess.Popen([sys.executable, "-m", "mimo_tui", "skill", "train", "date-normalizer", "--epochs", "3"],
                            cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def test_a_killed_run_shows_process_gone_within_5_s_and_resumes(git_project: Path, litellm_loaded: None) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None, timeout=10)
        runs = app.project.workspace.runs_dir
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.entries, timeout=10)
        # The offline demo trains in a few seconds, about as long as the dashboard's poll: the test waits on the
        # run folder itself for what may be too quick to see on screen, and on the screen for what must show.
        first = shell_training(git_project)
        try:
            await wait_until(pilot, lambda: first.poll() is not None, timeout=120)
            await wait_until(pilot, lambda: bool(pane.rows) and pane.rows[0].status == "finished", timeout=30)
            first_run = pane.rows[0].run_id
            # The dashboard followed the run started from the shell.
            await wait_until(pilot, lambda: pane.view is not None and pane.view.run_id == first_run, timeout=10)
            shell = shell_training(git_project)

            def second_training() -> str | None:
                return next((d.name for d in runs.iterdir() if d.name != first_run and (d / "process.json").exists()), None)

            await wait_until(pilot, lambda: second_training() is not None, timeout=30)
            second_run = second_training()
            shell.send_signal(signal.SIGKILL)
            shell.wait()
            killed = time.monotonic()
            await wait_until(pilot, lambda: pane.view is not None and pane.view.run_id == second_run, timeout=5)
        finally:
            for process in (first, locals().get("shell")):
                if process is not None and process.poll() is None:
                    process.kill()
        row = lambda: next(r for r in pane.rows if r.run_id == second_run)  # noqa: E731
        await wait_until(pilot, lambda: row().status == "stopped", timeout=6)
        assert time.monotonic() - killed <= 5.5
        assert "stopped (process gone)" in str(RunList._prompt(row()))
        pane.query_one(RunList).select_run(second_run)
        pane.query_one(RunList).focus()
        await pilot.pause()
        await pilot.press("r")
        await wait_until(pilot, lambda: len(pane.processes) == 1, timeout=5)
        resumed = pane.processes[0]
        assert resumed.run_id == second_run
        await wait_until(pilot, lambda: not resumed.alive, timeout=120)
        assert resumed.popen.returncode == 0
        await wait_until(pilot, lambda: row().status == "finished", timeout=10)
