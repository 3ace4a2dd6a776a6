"""Adopt and discard from the trainer dashboard (issue 17): a key shows what adopting would change, y commits it
as skillopt; discarding leaves the live skill as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

from mimo_tui.project import Project
from mimo_tui.ui.trainer.confirm_run_action import ConfirmRunAction
from mimo_tui.ui.trainer_pane import TrainerPane
from tests.fixtures.trainer_runs import install_run
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


def _memory_log(root: Path) -> list[str]:
    mimo = root / ".mimo"
    out = subprocess.run(["git", f"--git-dir={mimo / '.git'}", f"--work-tree={mimo}", "log", "--format=%an|%s"],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


async def test_adopt_from_the_dashboard_is_one_skillopt_commit_and_discard_changes_nothing(
        git_project: Path, demo_run: Path) -> None:
    run_dir = install_run(git_project, demo_run)
    live = Project.open(git_project).workspace.mimo_dir / "skills" / "date-normalizer" / "SKILL.md"
    before = _memory_log(git_project)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        pane.focus()
        await pilot.press("D")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("proposal discarded" in str(n.message) for n in app._notifications))
        assert _memory_log(git_project) == before and not live.exists()
        from mimo_tui.ui.trainer.run_list import RunList

        await wait_until(pilot, lambda: "discarded" in str(app.query_one(RunList).get_option_at_index(0).prompt))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        assert "Adopt v0002 (best)" in app.screen.question and "+" in app.screen.detail
        await pilot.press("n")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConfirmRunAction))
        assert _memory_log(git_project) == before
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmRunAction))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("skillopt: adopt run" in str(n.message) for n in app._notifications))
        log = _memory_log(git_project)
        assert len(log) == len(before) + 1 and log[0].startswith(f"skillopt|skillopt: adopt run {run_dir.name} v0002 (best")
        assert live.read_text() == (run_dir / "skills" / "skill_v0002.md").read_text()


async def test_adopting_one_of_two_edits_from_the_dashboard_and_the_run_says_adopted(
        git_project: Path, demo_run: Path) -> None:
    # What was seen: the dashboard could adopt only a whole version (the CLI's --edits had no key), and after adopting
    # neither the run list nor the header said what became of the proposal.
    from textual.widgets import SelectionList

    from mimo_tui.skillopt.staging import version_edits
    from mimo_tui.ui.trainer.adopt_screen import AdoptScreen
    from mimo_tui.ui.trainer.run_header import RunHeader
    from mimo_tui.ui.trainer.run_list import RunList

    run_dir = install_run(git_project, demo_run)
    edits = version_edits(run_dir, 2)
    assert len(edits) >= 2
    live = Project.open(git_project).workspace.mimo_dir / "skills" / "date-normalizer" / "SKILL.md"
    before = _memory_log(git_project)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        pane.focus()
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AdoptScreen))
        choices = app.screen.query_one(SelectionList)
        assert choices.option_count == len(edits) and choices.has_focus
        assert "1." in str(choices.get_option_at_index(0).prompt)
        for _ in edits[1:]:  # keep edit 1, leave out the others
            await pilot.press("down", "space")
        assert app.screen.chosen == [1]
        await pilot.press("y")
        await wait_until(pilot, lambda: any("skillopt: adopt run" in str(n.message) for n in app._notifications))
        log = _memory_log(git_project)
        assert len(log) == len(before) + 1
        assert log[0].startswith(f"skillopt|skillopt: adopt run {run_dir.name} v0002 (best, edits 1")
        text = live.read_text()
        assert edits[0]["text"] in text and not any(e["text"] in text for e in edits[1:])
        sha = log and subprocess.run(["git", f"--git-dir={git_project / '.mimo' / '.git'}", "rev-parse", "HEAD"],
                                     capture_output=True, text=True).stdout.strip()[:8]
        said = f"adopted v0002 edits 1 ({sha})"
        await wait_until(pilot, lambda: said in str(app.query_one(RunHeader).render()))
        assert said in str(app.query_one(RunList).get_option_at_index(0).prompt)


async def test_a_candidate_given_to_a_finished_run_is_judged_at_once_and_shows_in_the_lineage(
        git_project: Path, demo_run: Path) -> None:
    # What was seen: "the run has finished: the candidate waits in its inbox (a finished run takes no more)".
    from textual.widgets import TextArea

    from mimo_tui.skillopt.steering import pending_candidates, taken_candidates
    from mimo_tui.ui.trainer.candidate_editor import CandidateEditor

    run_dir = install_run(git_project, demo_run)
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await pilot.press("f4")
        await wait_until(pilot, lambda: bool(app.query(TrainerPane)))
        pane = app.query_one(TrainerPane)
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished)
        pane.focus()
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, CandidateEditor))
        editor = app.screen.query_one(TextArea)
        editor.move_cursor(editor.document.end)
        editor.insert("\n- Answer with the date only and nothing else.\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: any("judging it now" in str(n.message) for n in app._notifications))
        await wait_until(pilot, lambda: bool(taken_candidates(run_dir)), timeout=60)
        assert pending_candidates(run_dir) == ([], [])
        await wait_until(pilot, lambda: pane.view is not None and pane.view.finished
                         and any(c.by_hand == "edited" for c in pane.view.lineage), timeout=30)
        (taken,) = taken_candidates(run_dir)
        assert taken["outcome"]["action"] in ("accept", "reject", "undecided") and taken["outcome"]["reason"]
