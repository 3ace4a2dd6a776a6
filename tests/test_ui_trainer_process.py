"""Training started, stopped and resumed from the trainer pane: a real `mimo skill train` subprocess."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.ui.trainer.skill_catalogue import SkillCatalogue
from mimo_tui.ui.trainer.start_form import StartTrainingForm
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def test_train_stop_and_resume_from_the_keyboard(git_project: Path, litellm_loaded: None) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))  # mounted on first visit
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.query_one(SkillCatalogue).highlighted_skill == "date-normalizer")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, StartTrainingForm))
        await wait_until(pilot, lambda: app.screen.estimate is not None, timeout=60)
        assert not app.screen.paid and "error" not in app.screen.estimate
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: pane.processes and pane.processes[0].run_id is not None, timeout=20)
        process = pane.processes[0]
        run_dir = app.project.workspace.runs_dir / process.run_id
        assert (run_dir / "config.json").exists()
        await wait_until(pilot, lambda: pane.view is not None and pane.view.run_id == process.run_id and pane.view.events_seen > 0,
                         timeout=20)
        await wait_until(pilot, lambda: pane._selected_row() is not None and pane._selected_row().run_id == process.run_id)
        await pilot.press("x")
        await wait_until(pilot, lambda: not process.alive, timeout=20)
        assert process.popen.returncode in (0, 3)
        await wait_until(pilot, lambda: pane.view.finished, timeout=10)
        if process.popen.returncode == 3:
            assert pane.view.status == "stopped" and pane.view.stop_reason == "stopped by the user"
            await wait_until(pilot, lambda: pane._selected_row().status == "stopped", timeout=10)
            await pilot.press("r")
            await wait_until(pilot, lambda: len(pane.processes) == 2, timeout=10)
            resumed = pane.processes[1]
            assert resumed.run_id == process.run_id
            await wait_until(pilot, lambda: not resumed.alive, timeout=30)
            assert resumed.popen.returncode == 0
            await wait_until(pilot, lambda: pane.view.status == "finished" and pane.view.segments == 2, timeout=10)
        assert (run_dir / "summary.json").exists()
