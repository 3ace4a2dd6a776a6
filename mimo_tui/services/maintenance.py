"""Dream and distill as the workbench asks for them (call these off the event loop)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimo_tui.store import CommitInfo

if TYPE_CHECKING:
    from mimo_tui.maintenance.distill import DistillPlan, Proposal
    from mimo_tui.maintenance.distill.dataset_draft import DraftItem
    from mimo_tui.maintenance.dream import DreamReview
    from mimo_tui.services import Services
    from mimo_tui.skillopt.training_process import TrainingProcess


def dream_now(services: Services) -> DreamReview:
    """Plan, consolidate through dream's model when it has a real one (labelled note otherwise), commit once."""
    from mimo_tui.maintenance.dream import DreamSettings, apply_plan, plan_dream
    from mimo_tui.maintenance.dream.history_check import load_history
    from mimo_tui.maintenance.dream.model_pass import model_pass_for

    project = services.require_project()
    settings = DreamSettings.from_config(project.config)
    plan = plan_dream(project.store, project.root, settings,
                      load_history(project.workspace.state_db, settings.days))
    model_pass_for(project.config, settings)(plan, project.store, project.root)
    return apply_plan(project.store, plan)


def distill_plan(services: Services, now: float | None = None) -> DistillPlan:
    """Mine the project's session history for repeated workflows; stamped, so the schedule counts it as a pass."""
    import time

    from mimo_tui.maintenance.distill import DistillSettings, plan_distill
    from mimo_tui.maintenance.schedule import stamp
    from mimo_tui.sessions import SessionStore

    project = services.require_project()
    sessions = SessionStore(project.workspace.state_db)
    try:
        plan = plan_distill(sessions, project.root, DistillSettings.from_config(project.config))
    finally:
        sessions.close()
    stamp(project.workspace.cache_dir / "schedule", "distill", now or time.time())
    return plan


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


def scheduled_distill(services: Services, now: float | None = None) -> DistillPlan | None:
    """With `[distill] auto = true`, mine history when the last distill is `[distill] every_days` (30) or more days
    old; None when it is off or not due. It only proposes: the user approves proposals in /distill."""
    import time

    from mimo_tui.maintenance.distill import DistillSettings
    from mimo_tui.maintenance.schedule import is_due_stamped

    project = services.require_project()
    settings = DistillSettings.from_config(project.config)
    now = now or time.time()
    stamps = project.workspace.cache_dir / "schedule"
    if not settings.auto or not is_due_stamped(stamps, "distill", settings.every_days, now):
        return None
    return distill_plan(services, now)


NIGHTLY_DAYS = 1.0


def scheduled_training(services: Services, now: float | None = None) -> list[TrainingProcess] | str | None:
    """With `[distill] train_nightly = true`, once a day, start a training run for every skill whose reviewed dataset
    is ready and changed since that skill's last run. Each run has its estimate in its log and the `[trainer]
    max_usd` hard cap, and its result is staged (never adopted). None when off or not due; a sentence when refused."""
    import time

    from mimo_tui.maintenance.distill import DistillSettings
    from mimo_tui.maintenance.distill.dataset_readiness import skills_with_drafts, training_problem
    from mimo_tui.maintenance.schedule import is_due_stamped, stamp
    from mimo_tui.skillopt.run_reader import known_runs
    from mimo_tui.skillopt.training_process import TrainingProcess

    project = services.require_project()
    now = now or time.time()
    stamps = project.workspace.cache_dir / "schedule"
    if not DistillSettings.from_config(project.config).train_nightly or not is_due_stamped(
            stamps, "distill-training", NIGHTLY_DAYS, now):
        return None
    cap = project.config.get("trainer.max_usd", None)
    if isinstance(cap, bool) or not isinstance(cap, (int, float)) or cap <= 0:
        return "the nightly training schedule needs a hard cap: set [trainer] max_usd to a dollar amount above 0"
    stamp(stamps, "distill-training", now)
    started: list[TrainingProcess] = []
    for name, _pending in skills_with_drafts(project.store):
        if training_problem(project.store, name) is not None or not _dataset_changed_since_last_run(services, name):
            continue
        started.append(TrainingProcess.start(project.root, [name, "--yes", "--max-usd", f"{float(cap):g}"], name,
                                             project.workspace.cache_dir / "trainer-logs", known_runs(services.runs_dir)))
    return started


def _dataset_changed_since_last_run(services: Services, name: str) -> bool:
    """True when SKILL's eval/ splits were committed after its newest run started (or it never ran)."""
    import json

    project = services.require_project()
    proc = project.store.git.run("log", "-1", "--format=%at", "--", f"skills/{name}/eval", check=False)
    changed = int(proc.stdout.strip()) if proc.stdout.strip().isdigit() else 0
    newest = 0.0
    runs_dir = services.runs_dir
    for folder in runs_dir.iterdir() if runs_dir.is_dir() else []:
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if config.get("skill") == name:
            newest = max(newest, (folder / "config.json").stat().st_mtime)
    return changed > int(newest)
