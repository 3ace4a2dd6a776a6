"""`mimo skill adopt|discard|branch|steer` and `mimo skill runs --show`: a run's proposal from the shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def edit_numbers(text: str) -> list[int]:
    """An argparse type: edit numbers like 1,3 or 2-4."""
    numbers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected edit numbers like 1,3 or 2-4, got {text!r}") from None
        if first < 1 or last < first:
            raise argparse.ArgumentTypeError(f"edit numbers start at 1 and ranges go up, got {part!r}")
        numbers.extend(range(first, last + 1))
    if not numbers:
        raise argparse.ArgumentTypeError("name at least one edit")
    return numbers


def register(actions: argparse._SubParsersAction, positive_int: Any, train: Any, gateway_factory: Any) -> None:
    """The verbs on `mimo skill`; `train` is the handler of `mimo skill train` (a branch runs through it) and
    `gateway_factory(project)` builds the model gateway of the noise test."""
    adopt = actions.add_parser("adopt", help="adopt a run's version (or some of its edits) into the live skill: one commit")
    adopt.add_argument("run", help="run id, unique prefix or folder")
    adopt.add_argument("--version", default="best", help="best (default), final, or a version number")
    adopt.add_argument("--edits", type=edit_numbers, help="only these edits of the version, e.g. 1,3 (see runs --show)")
    adopt.add_argument("--no-noise-test", action="store_true",
                       help="skip scoring the version beside the other installed skills first")
    adopt.set_defaults(handler=run_adopt, gateway_factory=gateway_factory)
    discard = actions.add_parser("discard", help="mark a run's proposal as discarded (the live skill is not touched)")
    discard.add_argument("run")
    discard.set_defaults(handler=run_discard)
    branch = actions.add_parser("branch", help="a new run that starts from a step of another, sharing its call cache")
    branch.add_argument("run", help="the parent run")
    branch.add_argument("--from-step", type=int, required=True, metavar="N", help="start from the skill after step N (0: baseline)")
    branch.add_argument("--epochs", type=positive_int)
    branch.add_argument("--edit-budget", type=positive_int)
    branch.add_argument("--samples", type=positive_int)
    branch.add_argument("--target")
    branch.add_argument("--optimizer")
    branch.add_argument("--max-calls", type=positive_int)
    branch.add_argument("--no-run", action="store_true", help="only create the branch (train it with --resume)")
    branch.set_defaults(handler=run_branch, train_handler=train)
    steer = actions.add_parser("steer", help="give a run a candidate by hand: an edited SKILL.md or feedback for its optimizer")
    steer.add_argument("run")
    given = steer.add_mutually_exclusive_group(required=True)
    given.add_argument("--file", type=Path, help="an edited SKILL.md, judged on validation through the run's gate")
    given.add_argument("--feedback", help="written feedback the optimizer sees with the last step's trajectories")
    steer.set_defaults(handler=run_steer)


def _project() -> Any:
    from mimo_tui.project import Project

    return Project.open()


def _run_dir(project: Any, ref: str) -> Path:
    from mimo_tui.skillopt.session import resolve_run_dir

    return resolve_run_dir(project.workspace.runs_dir, ref)


def run_adopt(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.adoption import adopt
    from mimo_tui.skillopt.session import SetupError
    from mimo_tui.skillopt.staging import StagingError
    from mimo_tui.store import StoreError

    project = _project()
    try:
        run_dir = _run_dir(project, args.run)
        if not args.no_noise_test:
            _noise_test(project, run_dir, args)
        result = adopt(project.store, run_dir, args.version, args.edits)
    except (SetupError, StagingError, StoreError) as exc:
        _say(f"mimo: {exc}")
        return 2
    if result.commit is None:
        print(f"the live skill already holds v{result.version:04d} of run {result.run_id}: nothing to commit")
        return 0
    print(f"adopted v{result.version:04d} ({result.label}) of run {result.run_id}: commit {result.commit[:8]} "
          f"({', '.join(result.files)})")
    print(f"  undo with: mimo memory revert {result.commit[:8]}")
    return 0


def _noise_test(project: Any, run_dir: Path, args: argparse.Namespace) -> None:
    """Score the version alone and beside the other installed skills; a drop beyond [trainer] noise_drop warns."""
    import asyncio

    from mimo_tui.llm import ModelError
    from mimo_tui.skillopt.budget import BudgetExhausted
    from mimo_tui.skillopt.dataset import DatasetError
    from mimo_tui.skillopt.noise import DEFAULT_DROP, noise_test
    from mimo_tui.skillopt.staging import resolve_version

    number, _ = resolve_version(run_dir, args.version)
    drop = project.config.table("trainer").get("noise_drop", DEFAULT_DROP)
    try:
        report = asyncio.run(noise_test(run_dir, number, project.root, project.workspace.mimo_dir,
                                        project.config.table("models"), args.gateway_factory(project), float(drop)))
    except (ModelError, DatasetError, BudgetExhausted) as exc:
        _say(f"noise test skipped: {exc}")
        return
    if not report.others:
        _say("noise test: no other installed skills to score beside")
        return
    if report.alone is None or report.beside is None:
        _say(f"noise test: the target could not be scored (see {run_dir / 'noise' / 'events.jsonl'})")
        return
    _say(f"noise test: v{number:04d} scores {_pct(report.alone)} on validation alone, {_pct(report.beside)} beside "
         f"{len(report.others)} other installed skill(s)")
    if report.warning:
        _say(f"warning: {report.warning}")


def run_steer(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.run_process import process_state
    from mimo_tui.skillopt.session import SetupError
    from mimo_tui.skillopt.steering import SteeringError, give_candidate

    project = _project()
    try:
        run_dir = _run_dir(project, args.run)
        if args.file is not None:
            try:
                text = args.file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                _say(f"mimo: cannot read {args.file}: {exc}")
                return 2
            candidate = give_candidate(run_dir, "edited", text)
        else:
            candidate = give_candidate(run_dir, "feedback", args.feedback)
    except (SetupError, SteeringError) as exc:
        _say(f"mimo: {exc}")
        return 2
    print(f"gave run {run_dir.name} a candidate by hand ({candidate.kind}, {candidate.ident})")
    if process_state(run_dir) == "alive":
        print("  the run takes it at its next step boundary and judges it through the same gate")
    else:
        print(f"  the run is not training now: `mimo skill train --resume {run_dir.name}` judges it against its best version")
    return 0


def run_discard(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.adoption import discard
    from mimo_tui.skillopt.session import SetupError
    from mimo_tui.skillopt.staging import StagingError

    project = _project()
    try:
        run_dir = _run_dir(project, args.run)
        discard(run_dir)
    except (SetupError, StagingError) as exc:
        _say(f"mimo: {exc}")
        return 2
    print(f"discarded the proposal of run {run_dir.name} (its folder stays; the live skill is unchanged)")
    return 0


def _pct(value: Any) -> str:
    return "n/a" if not isinstance(value, (int, float)) else f"{100 * value:.1f}%"


def show_run(project: Any, ref: str, version: str | None) -> int:
    """The report of a run, the files of a version and its diff against the live skill."""
    from mimo_tui.skillopt.session import SetupError
    from mimo_tui.skillopt.staging import (
        StagingError, diff_against_live, load_proposal, resolve_version, version_edits, version_paths,
    )

    try:
        run_dir = _run_dir(project, ref)
        proposal = load_proposal(run_dir)
        number, label = resolve_version(run_dir, version)
    except (SetupError, StagingError) as exc:
        _say(f"mimo: {exc}")
        return 2
    print(f"run {proposal['run_id']}: skill {proposal['skill']}, "
          + ("finished" if proposal.get("completed") else f"stopped ({proposal.get('stop_reason') or 'not finished'})"))
    if proposal.get("parent"):
        print(f"  branch of {proposal['parent']['run']} from step {proposal['parent']['step']}")
    for name in ("baseline", "best", "final"):
        entry = proposal.get(name) or {}
        print(f"  {name:<8} v{int(entry.get('version') or 1):04d}  val {_pct(entry.get('val'))}  test {_pct(entry.get('test'))}")
    spent = proposal.get("spent") or {}
    print(f"  spent: {spent.get('calls', 0)} calls, ${float(spent.get('usd') or 0):.4f}")
    decided = proposal.get("adoption")
    if decided:
        what = f"adopted v{int(decided['version']):04d}, commit {str(decided.get('commit') or '-')[:8]}" if decided["status"] == "adopted" else "discarded"
        print(f"  decision: {what}")
    else:
        print(f"  decision: none yet (mimo skill adopt {proposal['run_id']} | mimo skill discard {proposal['run_id']})")
    print(f"\nversion v{number:04d} ({label}) files:")
    for rel, path in version_paths(run_dir, number).items():
        print(f"  {rel}  ({path})")
    edits = version_edits(run_dir, number)
    if edits:
        print(f"\nedits of v{number:04d} (adopt some with --edits 1,3):")
        for edit in edits:
            credit = edit.get("credit")
            note = f"  [fixed {len(credit['fixed'])}, broke {len(credit['broke'])}]" if credit else ""
            where = "" if edit["file"] == "SKILL.md" else f" {edit['file']}"
            print(f"  {edit['n']:>2}. step {edit['step']} {edit['op']}{where}: {str(edit['text'])[:90]}{note}")
    diff = diff_against_live(run_dir, project.store, number)
    print(f"\ndiff against the live skill:\n{diff}" if diff else "\nthe live skill already holds this version")
    return 0


def run_branch(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.branching import branch_run
    from mimo_tui.skillopt.session import SetupError
    from mimo_tui.skillopt.staging import StagingError

    project = _project()
    overrides = {"epochs": args.epochs, "edit_budget": args.edit_budget, "samples": args.samples, "target": args.target,
                 "optimizer": args.optimizer, "max_calls": args.max_calls}
    try:
        branch = branch_run(_run_dir(project, args.run), args.from_step, overrides)
    except (SetupError, StagingError) as exc:
        _say(f"mimo: {exc}")
        return 2
    _say(f"branch {branch.name} of {args.run} from step {args.from_step}")
    if args.no_run:
        print(branch.name)
        return 0
    train_args = argparse.Namespace(resume=branch.name, skill=None, max_calls=None, max_usd=None, estimate_only=False,
                                    yes=True, init=False)
    return args.train_handler(train_args)
