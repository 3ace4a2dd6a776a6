"""A run started from the shell is followed by the dashboard; killed with kill -9, it shows as gone and resumes at once."""

from __future__ import annotations

import os
import re
import shutil
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


def shell_training(project: Path, skill: str = "date-normalizer") -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(mimo_tui.__file__).resolve().parent.parent)}
    return subprocess.Popen([sys.executable, "-m", "mimo_tui", "skill", "train", skill, "--epochs", "3"],
                            cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def copy_skill(project: Path, name: str) -> None:
    demo = Path(mimo_tui.__file__).resolve().parent.parent / "skills" / "date-normalizer"
    target = project / ".mimo" / "skills" / name
    shutil.copytree(demo, target)
    text = (target / "SKILL.md").read_text(encoding="utf-8")
    (target / "SKILL.md").write_text(re.sub(r"(?m)^name:.*$", f"name: {name}", text, count=1), encoding="utf-8")


async def test_a_killed_run_shows_process_gone_within_5_s_and_resumes(git_project: Path, litellm_loaded: None) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None, timeout=10)
        runs = app.project.workspace.runs_dir
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.entries, timeout=10)
        first = shell_training(git_project)
        try:
            await wait_until(pilot, lambda: pane.rows and pane.rows[0].status == "running", timeout=30)
            first_run = pane.rows[0].run_id
            await wait_until(pilot, lambda: pane.view is not None and pane.view.run_id == first_run, timeout=10)
            first.wait(timeout=120)
            await wait_until(pilot, lambda: pane.rows[0].status == "finished", timeout=10)
            # Runs are staged, so the live skill is unchanged and the same run again would be all cache hits,
            # done before anyone could see it running: the second run trains a copy under another name.
            copy_skill(git_project, "date-copy")
            shell = shell_training(git_project, "date-copy")
            # The dashboard follows the run just started from the shell.
            await wait_until(pilot, lambda: pane.rows[0].run_id != first_run and pane.rows[0].status == "running", timeout=30)
            second_run = pane.rows[0].run_id
            await wait_until(pilot, lambda: pane.view is not None and pane.view.run_id == second_run, timeout=5)
            await wait_until(pilot, lambda: (runs / second_run / "process.json").exists(), timeout=20)
            shell.send_signal(signal.SIGKILL)
            shell.wait()
            killed = time.monotonic()
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
