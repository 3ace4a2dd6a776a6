"""`mimo dream`: consolidate the project's memory now and print the review (one commit authored `dream`)."""

from __future__ import annotations

import argparse

from mimo_tui.project import Project


def register(subparsers: argparse._SubParsersAction) -> None:
    dream = subparsers.add_parser(
        "dream", help="consolidate memory: merge duplicates, absolute dates, check cited paths, keep MEMORY.md under its caps",
        description="Consolidate the project's MEMORY.md in one commit authored `dream`: merge near-duplicates, turn "
        "relative dates into absolute ones, mark (or drop) entries citing paths or symbols the project lacks, prune "
        "superseded entries and keep the file under its caps; then, with a real model, consolidate through it. "
        "Settings: [dream] in .mimo/config.toml. Undo with `mimo memory revert SHA`.")
    dream.add_argument("--dry-run", action="store_true", help="print what would change; commit nothing")
    dream.add_argument("--no-model", action="store_true", help="run the deterministic passes only")
    dream.set_defaults(handler=run_dream_command)


def run_dream_command(args: argparse.Namespace) -> int:
    from mimo_tui.maintenance.dream import DreamSettings, apply_plan, plan_dream
    from mimo_tui.maintenance.dream.history_check import load_history
    from mimo_tui.maintenance.dream.model_pass import model_pass_for

    project = Project.open()
    settings = DreamSettings.from_config(project.config)
    plan = plan_dream(project.store, project.root, settings,
                      load_history(project.workspace.state_db, settings.days))
    consolidate = None if args.no_model else model_pass_for(project.config, settings)
    if consolidate is None:
        if not args.no_model:
            plan.review.notes.append("model pass skipped: no model configured for dream")
    else:
        consolidate(plan, project.store, project.root)
    if args.dry_run:
        plan.review.notes.append("dry run: nothing committed")
        plan.review.size_after = (len(plan.after.rstrip("\n").split("\n")), len(plan.after.encode("utf-8")))
        print(plan.review.text())
        print(project.store.diff_text("MEMORY.md", plan.after), end="")
        return 0
    review = apply_plan(project.store, plan)
    print(review.text())
    return 0
