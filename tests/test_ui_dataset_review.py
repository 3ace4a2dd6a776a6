"""The dataset review screen (Pilot): a drafted dataset's pending items shown one by one; t/v approve into a split,
e edits before approving, d drops, n leaves pending; only approved items reach a split file, and T refuses to train
while something is still pending."""

from __future__ import annotations

import json

from mimo_tui.maintenance.distill.dataset_draft import PENDING, draft_dataset, read_draft
from mimo_tui.sessions import SessionStore
from mimo_tui.ui.dataset_review import DatasetReviewScreen
from mimo_tui.ui.trainer.start_form import StartTrainingForm
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_until

SIZE = (110, 36)
SKILL = ('---\nname: release-notes\ndescription: "Write release notes from the git log"\n---\n# release-notes\n\n'
         "When to use:\n- Write the release notes for version 1.2\n")


def split(agent_project: AgentProject, name: str) -> list[dict]:
    path = agent_project.root / ".mimo" / "skills" / "release-notes" / "eval" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_items_are_approved_edited_dropped_one_by_one(agent_project: AgentProject, make_chat_app) -> None:
    from mimo_tui.project import Project

    project = Project.open(agent_project.root)
    project.store.write("skills/release-notes/SKILL.md", SKILL)
    sessions = SessionStore(project.workspace.state_db)
    for version in ("1.3", "1.4", "1.5", "2.0"):
        session = sessions.create("offline/agent")
        sessions.add_message(session.id, 1, "user", f"Write the release notes for version {version}")
        sessions.add_message(session.id, 1, "assistant", f"Notes for {version}: fixes.")
    draft_dataset(project.store, sessions, "release-notes")
    sessions.close()
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "/dataset release-notes")
        await wait_until(pilot, lambda: isinstance(app.screen, DatasetReviewScreen) and app.screen.pending is not None,
                         what="the dataset review")
        screen = app.screen
        assert len(screen.pending) == 4
        first = screen.current
        shown = str(screen.query_one("#dataset-item").render())
        assert first.input in shown and first.expected in shown and "normalized" in shown
        await pilot.press("t")
        await wait_until(pilot, lambda: len(screen.pending) == 3, what="the first approval")
        await pilot.press("e")
        editor = screen.query_one("#dataset-edit-expected")
        editor.text = "Notes: faster fixes."
        await pilot.press("ctrl+s")
        await pilot.press("v")
        await wait_until(pilot, lambda: len(screen.pending) == 2, what="the edited approval")
        await pilot.press("d")
        await wait_until(pilot, lambda: len(screen.pending) == 1, what="the drop")
        await pilot.press("n")
        await pilot.press("T")  # one item still pending: no training starts
        await wait_until(pilot, lambda: any("pending review" in str(n.message) for n in app._notifications),
                         what="the refusal to train")
        assert isinstance(app.screen, DatasetReviewScreen)
        await pilot.press("s")
        await wait_until(pilot, lambda: not screen.pending, what="the last decision")
        await pilot.press("T")  # nothing pending: the trainer's start form asks, with its estimate and cap
        await wait_until(pilot, lambda: isinstance(app.screen, StartTrainingForm), what="the start form")
        assert app.screen.skill == "release-notes" and app.screen.cap_usd > 0
        await pilot.press("escape")
    assert [i["input"] for i in split(agent_project, "train")] == [first.input]
    assert [i["grader"]["reference"] for i in split(agent_project, "val")] == ["Notes: faster fixes."]
    assert len(split(agent_project, "test")) == 1
    statuses = [i.status for i in read_draft(Project.open(agent_project.root).store, "release-notes")]
    assert statuses == ["approved", "approved", "dropped", "approved"] and PENDING not in statuses
