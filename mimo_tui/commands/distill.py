"""`mimo distill`: find workflows repeated in session history and add the approved ones as commands, skills or
subagents of the project (one commit each, authored `distill`)."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    distill = subparsers.add_parser(
        "distill", help="turn workflows repeated in past sessions into commands, skills or subagents",
        description="Mine the project's session history (the last [distill] days, 30 by default) for workflows "
        "repeated at least [distill] min_repeats times (alike requests, alike tool steps), take stock of the "
        "skills, commands and subagents already there, and propose each new workflow in its smallest form: a "
        "command (.mimo/commands/NAME.md, run as /NAME ARGS in chat), a skill (.mimo/skills/NAME/SKILL.md) or a "
        "subagent (.mimo/agents/NAME.md, for the agent tool). Each proposal is asked about; approved ones are "
        "committed. Creating nothing is a valid result.")
    distill.add_argument("--yes", action="store_true", help="approve every proposal without asking")
    distill.add_argument("--dry-run", action="store_true", help="list the proposals and their files; write nothing")
    distill.add_argument("--days", type=int, help="how far back to look (default: [distill] days)")
    distill.add_argument("--draft-dataset", metavar="SKILL",
                         help="draft a starter dataset for a project skill from the sessions that did its work; "
                         "every item stays 'pending review' until approved with --review-dataset")
    distill.add_argument("--review-dataset", metavar="SKILL",
                         help="go through a skill's pending dataset items one by one: train, val, test or drop")
    distill.add_argument("--train", metavar="SKILL",
                         help="once SKILL's drafted dataset is reviewed (nothing pending), start a gated training run "
                         "with a dollar estimate and the [trainer] max_usd hard cap; its result is staged as a "
                         "proposal (`mimo skill adopt RUN`), never written to the live skill")
    distill.set_defaults(handler=run_distill)


def _ask(question: str) -> bool:
    try:
        answer = input(question)
    except EOFError:
        print("(no answer: skipped; --yes approves every proposal)")
        return False
    return answer.strip().lower() in ("y", "yes")


def run_distill(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from mimo_tui.maintenance.distill import DistillSettings, adopt, plan_distill
    from mimo_tui.project import Project
    from mimo_tui.sessions import SessionStore

    project = Project.open()
    if args.train:
        return _train(project, args.train, args.yes)
    if args.draft_dataset or args.review_dataset:
        return _dataset(project, args)
    settings = DistillSettings.from_config(project.config)
    if args.days is not None:
        settings = replace(settings, days=args.days)
    sessions = SessionStore(project.workspace.state_db)
    try:
        plan = plan_distill(sessions, project.root, settings)
    finally:
        sessions.close()
    print(plan.text())
    if args.dry_run:
        for proposal in plan.proposals:
            print(f"\n--- .mimo/{proposal.relpath}\n{proposal.text}", end="")
        return 0
    added = 0
    for proposal in plan.proposals:
        if not args.yes:
            print(f"\n--- .mimo/{proposal.relpath}\n{proposal.text}", end="")
            if not _ask(f"add {proposal.kind} {proposal.name}? [y/N] "):
                continue
        info = adopt(project.store, proposal)
        added += 1
        print(f"added .mimo/{proposal.relpath}" + (f" ({info.short})" if info else ""))
    if plan.proposals:
        print(f"distill: {added} of {len(plan.proposals)} proposal(s) added")
    sys.stdout.flush()
    return 0


_DECISIONS = {"t": "train", "train": "train", "v": "val", "val": "val", "s": "test", "test": "test", "d": "drop",
              "drop": "drop"}


def _dataset(project, args: argparse.Namespace) -> int:
    from mimo_tui.maintenance.distill.dataset_draft import PENDING, draft_dataset, read_draft, review_item
    from mimo_tui.sessions import SessionStore

    if args.draft_dataset:
        sessions = SessionStore(project.workspace.state_db)
        try:
            items = draft_dataset(project.store, sessions, args.draft_dataset)
        finally:
            sessions.close()
        if not items:
            print(f"no session request reads like skill {args.draft_dataset}'s examples: nothing drafted")
            return 0
        print(f"drafted {len(items)} item(s) in .mimo/skills/{args.draft_dataset}/eval/draft.jsonl, pending review; "
              f"approve them with `mimo distill --review-dataset {args.draft_dataset}`")
        return 0
    name = args.review_dataset
    pending = [item for item in read_draft(project.store, name) if item.status == PENDING]
    if not pending:
        print(f"skill {name} has no dataset item pending review")
        return 0
    for item in pending:
        print(f"\n{item.id} (from session {item.session_id})\n  input:    {item.input}\n  accepted: {item.expected}\n"
              f"  grader:   {item.grader.get('type')}")
        if args.yes:
            print("  (--yes does not approve dataset items: each one needs your answer)")
            return 0
        try:
            answer = input("  [t]rain, [v]al, te[s]t, [d]rop, enter leaves it pending: ").strip().lower()
        except EOFError:
            print("  (no answer: left pending)")
            return 0
        decision = _DECISIONS.get(answer)
        if decision is None:
            continue
        review_item(project.store, name, item.id, decision)
        print(f"  {item.id}: {'dropped' if decision == 'drop' else 'approved into ' + decision}")
    return 0


def _train(project, name: str, yes: bool) -> int:
    """`mimo skill train NAME` on the reviewed dataset, after checking nothing is still pending review."""
    from mimo_tui.commands.skill import run_train
    from mimo_tui.maintenance.distill.dataset_readiness import training_problem
    from mimo_tui.skillopt.staging import PROPOSAL

    problem = training_problem(project.store, name)
    if problem:
        print(f"mimo: {problem}", file=sys.stderr)
        return 2
    runs_dir = project.workspace.runs_dir
    before = {p.name for p in runs_dir.iterdir()} if runs_dir.is_dir() else set()
    parser = argparse.ArgumentParser(prog="mimo")
    from mimo_tui.commands import skill as skill_command

    skill_command.register(parser.add_subparsers())
    code = run_train(parser.parse_args(["skill", "train", name, *(["--yes"] if yes else [])]))
    new = sorted(p for p in (runs_dir.iterdir() if runs_dir.is_dir() else []) if p.name not in before)
    staged = [p for p in new if (p / PROPOSAL).is_file()]
    if staged:
        print(f"staged as a proposal; the live skill is unchanged. Review it with `mimo skill runs --show "
              f"{staged[-1].name}`, adopt it with `mimo skill adopt {staged[-1].name}`")
    sys.stdout.flush()
    return code
