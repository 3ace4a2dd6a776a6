"""Training from the TUI asks first: a form with skill, models, cap and the pre-run estimate; no run before Start."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.ui.trainer.start_form import StartTrainingForm
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)
PAID = '''[trainer]
target = "openai/gpt-4o-mini"
optimizer = "openai/gpt-4o-mini"
max_usd = 0.5

[models."openai/gpt-4o-mini"]
api_base = "http://127.0.0.1:9/v1"
api_key = "sk-test-not-a-key"
'''


def screen_text(app) -> str:
    return " ".join(str(w.render()) for w in app.screen.query("Static"))


async def test_t_with_a_paid_target_asks_with_an_estimate_and_starts_nothing(git_project: Path) -> None:
    (git_project / ".mimo").mkdir(exist_ok=True)
    (git_project / ".mimo" / "config.toml").write_text(PAID, encoding="utf-8")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None, timeout=10)
        runs = app.project.workspace.runs_dir
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)), timeout=10)  # mounted on first visit
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: any(e.eval_dir for e in pane.entries), timeout=10)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, StartTrainingForm))
        form = app.screen
        assert "$0.50" in screen_text(app) or "0.5" in form.query_one("#train-form-cap").value
        assert "config [trainer] max_usd" in screen_text(app)
        await wait_until(pilot, lambda: form.estimate is not None, timeout=60)
        assert "error" not in form.estimate, form.estimate
        text = screen_text(app)
        assert "estimate:" in text and "$" in text and form.paid
        await pilot.press("t")  # a second t changes nothing
        await pilot.pause(0.5)
        assert not pane.processes and not (runs.is_dir() and any(runs.iterdir()))
        await pilot.press("escape")
        await pilot.pause(0.5)
        assert not isinstance(app.screen, StartTrainingForm)
        assert not pane.processes and not (runs.is_dir() and any(runs.iterdir()))


async def test_a_paid_run_needs_a_cap_and_starts_only_with_start(git_project: Path) -> None:
    (git_project / ".mimo").mkdir(exist_ok=True)
    (git_project / ".mimo" / "config.toml").write_text(PAID, encoding="utf-8")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None, timeout=10)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)), timeout=10)  # mounted on first visit
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: any(e.eval_dir for e in pane.entries), timeout=10)
        await pilot.click("#trainer-skills")  # a click on a skill asks too
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StartTrainingForm))
        form = app.screen
        await wait_until(pilot, lambda: form.estimate is not None, timeout=60)
        form.query_one("#train-form-cap").value = "0"
        await pilot.press("ctrl+y")
        await pilot.pause(0.2)
        assert isinstance(app.screen, StartTrainingForm) and not pane.processes
        form.query_one("#train-form-cap").value = "0.25"
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: bool(pane.processes), timeout=10)
        process = pane.processes[0]
        assert process.popen.args[-4:] == ["--max-usd", "0.25", "--yes"][-3:] or "--max-usd" in process.popen.args
        assert process.popen.args[process.popen.args.index("--max-usd") + 1] == "0.25"
        process.stop()
        process.popen.wait(timeout=30)
