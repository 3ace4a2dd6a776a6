"""Dream and distill as the workbench asks for them (call these off the event loop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_tui.store import CommitInfo

if TYPE_CHECKING:
    from mimo_tui.maintenance.distill import DistillPlan, Proposal
    from mimo_tui.maintenance.distill.dataset_draft import DraftItem
    from mimo_tui.maintenance.dream import DreamReview
    from mimo_tui.services import Services


def dream_now(services: Services) -> DreamReview:
    """Plan, consolidate through dream's model when it has a real one (labelled note otherwise), commit once."""
    from mimo_tui.maintenance.dream import DreamSettings, apply_plan, plan_dream
    from mimo_tui.maintenance.dream.model_pass import model_pass_for

    project = services.require_project()
    settings = DreamSettings.from_config(project.config)
    plan = plan_dream(project.store, project.root, settings)
    model_pass_for(project.config, settings)(plan, project.store, project.root)
    return apply_plan(project.store, plan)


def distill_plan(services: Services) -> DistillPlan:
    """Mine the project's session history for repeated workflows."""
    from mimo_tui.maintenance.distill import DistillSettings, plan_distill
    from mimo_tui.sessions import SessionStore

    project = services.require_project()
    sessions = SessionStore(project.workspace.state_db)
    try:
        return plan_distill(sessions, project.root, DistillSettings.from_config(project.config))
    finally:
        sessions.close()


def distill_adopt(services: Services, proposal: Proposal) -> CommitInfo | None:
    """Commit one approved proposal as `distill`."""
    from mimo_tui.maintenance.distill import adopt

    return adopt(services.require_project().store, proposal)


def scheduled_dream(services: Services, now: float | None = None) -> DreamReview | None:
    """With `[dream] auto = true`, dream when the last dream is `[dream] every_days` (7) or more days old (or there
    was none); None when it is off or not due. Call it off the event loop, once the project is open."""
    import time

    from mimo_tui.maintenance.dream import DreamSettings
    from mimo_tui.maintenance.schedule import is_due

    project = services.require_project()
    settings = DreamSettings.from_config(project.config)
    if not settings.auto or not is_due(project.store, "dream", settings.every_days, now or time.time()):
        return None
    return dream_now(services)


def dataset_skills(services: Services) -> list[tuple[str, int]]:
    """(skill, items pending review) for every project skill with a drafted dataset."""
    from mimo_tui.maintenance.distill.dataset_readiness import skills_with_drafts

    return skills_with_drafts(services.require_project().store)


def dataset_pending(services: Services, name: str) -> list[DraftItem]:
    """The items of SKILL's draft still pending review, in draft order."""
    from mimo_tui.maintenance.distill.dataset_draft import PENDING, read_draft

    return [item for item in read_draft(services.require_project().store, name) if item.status == PENDING]


def dataset_decide(services: Services, name: str, item_id: str, decision: str, *, input_text: str | None = None,
                   expected: str | None = None) -> DraftItem:
    """Approve one item into train/val/test (optionally edited) or drop it: one commit by distill."""
    from mimo_tui.maintenance.distill.dataset_draft import review_item

    return review_item(services.require_project().store, name, item_id, decision, input_text=input_text,
                       expected=expected)


def dataset_training_problem(services: Services, name: str) -> str | None:
    """None when SKILL's reviewed dataset can be trained on; otherwise what to do first."""
    from mimo_tui.maintenance.distill.dataset_readiness import training_problem

    return training_problem(services.require_project().store, name)
