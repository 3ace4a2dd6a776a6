"""`mimo skill train|eval|runs|list|adopt|discard|branch`: the skill trainer and the skill catalogue from the shell."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a number of at least 0 (a negative margin would accept regressions)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    skill = subparsers.add_parser("skill", help="skills: catalogue, training (SkillOpt-style) and evaluation")
    actions = skill.add_subparsers(dest="skill_command", metavar="ACTION", required=True)
    train = actions.add_parser("train", help="train a skill on its eval/ dataset (offline demo models by default)")
    train.add_argument("skill", nargs="?", help="skill name (see `mimo skill list`)")
    train.add_argument("--target", help="model that runs the tasks with the skill")
    train.add_argument("--optimizer", help="model that proposes edits")
    train.add_argument("--judge", help="model for llm_judge graders (default: the optimizer)")
    train.add_argument("--epochs", type=positive_int)
    train.add_argument("--batch", type=positive_int)
    train.add_argument("--edit-budget", type=positive_int, help="edits kept at the first step (decays to 2)")
    train.add_argument("--schedule", choices=("constant", "linear", "cosine"))
    caps = train.add_mutually_exclusive_group()
    caps.add_argument("--max-usd", type=non_negative_float, help="hard dollar cap")
    caps.add_argument("--max-calls", type=positive_int, help="hard cap on provider calls")
    train.add_argument("--max-output-tokens", type=positive_int,
                       help="max_tokens of every call (default: the model's limit; with --max-usd each call "
                            "reserves its prompt plus this many output tokens)")
    train.add_argument("--seed", type=int)
    train.add_argument("--samples", type=positive_int, help="K samples per task (paired in the gate)")
    train.add_argument("--margin", type=non_negative_float, help="minimum validation gain to accept")
    train.add_argument("--no-regression", action="store_true", help="reject a candidate that breaks any item")
    train.add_argument("--alpha", type=non_negative_float, help="the gate accepts only at p <= alpha (default 0.1)")
    train.add_argument("--min-tokens", type=positive_int, help="a floor on the skill's length (default: none)")
    train.add_argument("--dataset", help="eval folder, or one JSONL file split by --split-ratio and the seed")
    train.add_argument("--split-ratio", help="train,val,test shares for a one-file dataset (default 0.6,0.2,0.2)")
    train.add_argument("--resume", metavar="RUN", help="continue a stopped or crashed run (a finished one judges the candidates given to it by hand)")
    train.add_argument("--init", action="store_true", help="add front matter to a SKILL.md that has none, then train")
    train.add_argument("--edit-whole", action="store_true",
                       help="let edits touch all of SKILL.md, not only its managed region (config: [trainer] edit_whole)")
    train.add_argument("-y", "--yes", action="store_true", help="do not ask before a paid run")
    train.add_argument("--estimate-only", action="store_true",
                       help="print the pre-run estimate as JSON and stop (no run folder is created)")
    train.set_defaults(handler=run_train)
    evaluate = actions.add_parser("eval", help="score a skill version on a split with any target model")
    evaluate.add_argument("skill")
    evaluate.add_argument("--version", help="memory-repo commit of the skill, a run's vN (RUN:N), or a file path")
    evaluate.add_argument("--split", default="test", choices=("train", "val", "test"))
    evaluate.add_argument("--target")
    evaluate.add_argument("--judge", help="model for llm_judge graders (default: the trainer's optimizer)")
    evaluate.add_argument("--samples", type=positive_int, default=1)
    evaluate.set_defaults(handler=run_eval)
    runs = actions.add_parser("runs", help="list training runs, or show one (report, files, diff against the live skill)")
    runs.add_argument("--show", metavar="RUN", help="the report of one run, a version's files and its diff")
    runs.add_argument("--version", help="with --show: best (default), final or a version number")
    runs.set_defaults(handler=run_runs)
    from mimo_tui.commands import skill_staging

    skill_staging.register(actions, positive_int, run_train, _gateway_factory)
    listing = actions.add_parser("list", help="the skills found (shipped, project and peers' folders)")
    listing.set_defaults(handler=run_list)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class ProgressPrinter:
    """Turns trainer events into progress lines on stderr (a live bar on a terminal)."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.warned: set[int] = set()

    def _budget(self, calls: int, usd: float, max_calls: int | None, max_usd: float | None) -> None:
        shares = [calls / max_calls if max_calls else 0.0, usd / max_usd if max_usd else 0.0]
        for mark in (50, 80):
            if max(shares) * 100 >= mark and mark not in self.warned:
                self.warned.add(mark)
                _say(f"  budget: {mark}% of the cap spent ({calls} calls, ${usd:.4f})")

    def __call__(self, event: Any) -> None:
        from mimo_tui.skillopt import events as ev

        if isinstance(event, ev.RolloutProgress):
            bar = "#" * int(20 * event.done / max(1, event.total))
            line = f"  rollouts {event.stage:<14} [{bar:<20}] {event.done}/{event.total}" + (f" ({event.errors} errors)" if event.errors else "")
            if self.live:
                print("\r" + line, end="\n" if event.done == event.total else "", file=sys.stderr, flush=True)
            elif event.done == event.total:
                _say(line)
        elif isinstance(event, ev.BudgetUpdate):
            self._budget(event.calls, event.usd, event.max_calls, event.max_usd)
        elif isinstance(event, ev.RunStarted):
            _say(f"run {event.run_id}: skill {event.skill}, target {event.target}, optimizer {event.optimizer}"
                 + (" (resumed)" if event.resumed else ""))
        elif isinstance(event, ev.EpochStarted):
            _say(f"epoch {event.epoch}/{event.epochs}")
        elif isinstance(event, ev.StepStarted):
            _say(f" step {event.step}: batch {event.batch_size}, edit budget {event.edit_budget}")
        elif isinstance(event, ev.ProposalsReceived) and event.problem:
            _say(f"  optimizer group {event.group}: {event.problem}")
        elif isinstance(event, ev.CandidateBuilt):
            _say(f"  candidate: {len(event.applied)} edit(s) applied, {len(event.skipped)} skipped, "
                 f"{len(event.refused)} refused, {event.tokens} tokens")
            for item in event.applied:
                _say(f"    + {item['op']}: {item['text'][:90]}")
        elif isinstance(event, ev.GateDecided):
            flips = ", ".join(f"{k} {v}" for k, v in event.flips.items() if v)
            _say(f"  gate: {event.action.upper()} - {event.reason} [{flips}]")
        elif isinstance(event, ev.SkillAccepted):
            _say(f"  accepted as v{event.version:04d}" + (f", commit {event.commit}" if event.commit else ""))
        elif isinstance(event, ev.StepFinished) and event.action == "no_edits":
            _say(f"  no edit this step: {event.record.get('no_edit_reason') or 'no applicable edits'}")
        elif isinstance(event, ev.SlowUpdate):
            verdict = f"accepted as v{event.version:04d}" if event.action == "accept" else f"{event.action} - {event.reason}"
            _say(f" slow update after epoch {event.epoch}: guidance {verdict}")
        elif isinstance(event, ev.HandCandidateJudged):
            verdict = f"accepted as v{event.version:04d}" if event.version is not None else event.action
            _say(f" candidate by hand ({event.kind}, {event.ident}) after step {event.after_step}: {verdict} - {event.reason}")
        elif isinstance(event, ev.ErrorRaised):
            _say(f"  error [{event.stage}]: {event.message}")


def _project():
    from mimo_tui.project import Project

    return Project.open()


def _gateway_factory(project: Any):
    from mimo_tui.llm import Gateway

    llm = project.config.table("llm")

    def build(cache: Any) -> Gateway:
        return Gateway(max_concurrency=int(llm.get("max_concurrency", 8)), max_retries=int(llm.get("max_retries", 4)),
                       timeout_s=float(llm.get("timeout_s", 120.0)), cache=cache)

    return build


def _print_report(summary: dict[str, Any], run_path: Path) -> None:
    print(f"run {summary['run_id']}: {summary['stop_reason']}")
    print(f"  steps {summary['steps']}: accepted at {summary['accepted_steps'] or 'none'}, "
          f"rejected at {summary['rejected_steps'] or 'none'}")
    val = summary["val"]
    print("  validation: " + ", ".join(f"{k} {_pct(v.get('score'))}" for k, v in val.items()))
    test = summary["test"]
    if all(str(v.get("note", "")).startswith("no test split") for v in test.values()):
        print("  test:       no test split (eval/test.jsonl): the scores above are on validation only")
    else:
        print("  test:       " + ", ".join(
            f"{k} {_pct(v.get('score'))}" + (f" (v{v['version']:04d})" if v.get("version") else "") for k, v in test.items()))
    spent = summary["spent"]
    print(f"  spent: {spent['calls']} calls, {spent['prompt_tokens'] + spent['completion_tokens']:,} tokens, ${spent['usd']:.4f}")
    if spent.get("cut_by_crash"):
        print(f"  ({spent['cut_by_crash']} of the calls were cut by a crash and count at their reserved cost)")
    print(f"  folder: {run_path}")
    if not summary["completed"]:
        print(f"  resume with: mimo skill train --resume {summary['run_id']}")


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def run_train(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from mimo_tui.llm import ModelError
    from mimo_tui.skillopt.config import TrainConfig
    from mimo_tui.skillopt.dataset import DatasetError
    from mimo_tui.skillopt.session import (
        SetupError, find_skill, init_skill, new_run, price_with, resolve_run_dir, resume_run,
    )

    project = _project()
    runs_dir = project.workspace.runs_dir
    models = project.config.table("models")
    printer = ProgressPrinter()
    try:
        if args.resume:
            overrides = {"max_calls": args.max_calls, "max_usd": args.max_usd}
            prepared = resume_run(resolve_run_dir(runs_dir, args.resume), project.store, models,
                                  _gateway_factory(project), printer, overrides)
        else:
            if not args.skill:
                _say("mimo: name a skill to train (see `mimo skill list`) or pass --resume RUN")
                return 2
            trainer_table = project.config.table("trainer")
            config = TrainConfig(skill=args.skill, target=args.target or trainer_table.get("target", "offline/target"),
                                 optimizer=args.optimizer or trainer_table.get("optimizer", "offline/optimizer"))
            config.reference_field = str(trainer_table.get("reference_field", "") or "")
            for name in ("judge", "epochs", "batch", "edit_budget", "schedule", "max_usd", "max_calls", "max_output_tokens",
                         "seed", "samples", "margin", "dataset", "alpha", "min_tokens"):
                value = getattr(args, name)
                if value is not None:
                    setattr(config, name, value)
            if args.max_usd is None:
                config.max_usd = _configured_cap(trainer_table.get("max_usd"))
            config.no_regression = bool(args.no_regression)
            config.edit_whole = bool(args.edit_whole or trainer_table.get("edit_whole", False))
            if args.split_ratio:
                try:
                    config.split_ratios = [float(part) for part in args.split_ratio.split(",")]
                except ValueError:
                    _say(f"mimo: --split-ratio wants three numbers like 0.6,0.2,0.2, got {args.split_ratio!r}")
                    return 2
            if config.edit_budget_end > config.edit_budget:
                config.edit_budget_end = config.edit_budget
            if args.init:
                changed = init_skill(args.skill, project.root, project.workspace.mimo_dir, project.store)
                if changed is not None:
                    _say(f"added front matter to {changed} (edit its description to say when to use the skill)")
            entry = find_skill(args.skill, project.root, project.workspace.mimo_dir)
            if args.estimate_only:
                return _print_estimate(config, project, entry, models)
            prepared = new_run(config, project.store, runs_dir, entry, models, _gateway_factory(project), printer)
    except (SetupError, DatasetError, ModelError) as exc:
        if args.estimate_only:
            print(json.dumps({"error": str(exc)}))
        _say(f"mimo: {exc}")
        return 2
    trainer = prepared.trainer
    estimate = trainer.estimate(price_with(trainer.gateway))
    _say(estimate.describe())
    cap = trainer.config.max_usd
    cap_text = f"${cap:g}" if cap is not None else "none"
    if not prepared.resumed:
        origin = "--max-usd" if args.max_usd is not None else "config [trainer] max_usd; --max-usd overrides"
        _say(f"dollar cap: {cap_text} ({origin})" if cap is not None else "dollar cap: none ([trainer] max_usd or --max-usd sets one)")
    if not estimate.price_known and trainer.config.max_calls is None and trainer.config.max_usd is None and not (
        trainer.target.offline and trainer.optimizer.offline
    ):
        _say("note: the price of a model is unknown; consider --max-calls as a hard cap")
    if estimate.usd > 1.0 and not args.yes and sys.stdin.isatty():
        if input(f"This run may cost up to ${estimate.usd:.2f} (cap {cap_text}). Start? [y/N] ").strip().lower() not in ("y", "yes"):
            return 1

    async def main() -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        presses = {"n": 0}

        def on_interrupt() -> None:
            presses["n"] += 1
            if presses["n"] == 1:
                _say("stopping after the calls in flight (Ctrl-C again to abort)...")
                trainer.request_stop()
            else:
                raise KeyboardInterrupt

        try:
            loop.add_signal_handler(signal.SIGINT, on_interrupt)
        except (NotImplementedError, RuntimeError):
            pass
        return await trainer.run(estimate, resumed=prepared.resumed)

    started = time.monotonic()
    from mimo_tui.skillopt.run_process import training_process

    with training_process(prepared.run.path):
        summary = asyncio.run(main())
    _print_report(summary, prepared.run.path)
    _say(f"({time.monotonic() - started:.1f} s)")
    return 0 if summary["completed"] else 3


def _configured_cap(value: Any) -> float | None:
    """The config's default dollar cap (`[trainer] max_usd`), the one the TUI's start form also applies."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def _print_estimate(config: Any, project: Any, entry: Any, models: dict[str, Any]) -> int:
    """The estimate of a new run as one JSON line, from a throwaway run folder: the TUI asks before starting."""
    import tempfile

    from mimo_tui.skillopt.session import new_run, price_with

    with tempfile.TemporaryDirectory(prefix="mimo-estimate-") as scratch:
        prepared = new_run(config, project.store, Path(scratch), entry, models, _gateway_factory(project))
        trainer = prepared.trainer
        estimate = trainer.estimate(price_with(trainer.gateway))
        paid = not (trainer.target.offline and trainer.optimizer.offline)
        print(json.dumps({**estimate.to_dict(), "text": estimate.describe(), "paid": paid}))
    return 0


def _skill_text_at(project: Any, name: str, version: str | None) -> str:
    from mimo_tui.skillopt.session import SetupError, find_skill, resolve_run_dir, skill_relpath

    if version is None:  # the live skill, with its scripts/ and references/
        from mimo_tui.skillopt.session import live_skill_dir
        from mimo_tui.skillopt.skill_files import SkillFileError, pack, read_skill_files

        entry = find_skill(name, project.root, project.workspace.mimo_dir)
        try:
            return pack(read_skill_files(live_skill_dir(project.store, name, entry.folder)))
        except SkillFileError as exc:
            raise SetupError(str(exc)) from exc
    if Path(version).is_file():
        return Path(version).read_text(encoding="utf-8")
    if ":" in version:
        run_ref, _, number = version.rpartition(":")
        run_dir = resolve_run_dir(project.workspace.runs_dir, run_ref)
        from mimo_tui.skillopt.run_folder import RunFolder, skill_version_path

        path = skill_version_path(run_dir, int(number.lstrip("v") or 0))
        if not path.exists():
            raise SetupError(f"{path} does not exist")
        return RunFolder(run_dir).read_skill_version(int(number.lstrip("v") or 0))  # with its scripts/ and references/
    proc = project.store.git.run("show", f"{version}:{skill_relpath(name)}", check=False)
    if proc.returncode != 0:
        raise SetupError(f"no version {version!r} of {skill_relpath(name)} in the memory repo (`mimo memory log {skill_relpath(name)}`)")
    return proc.stdout


def run_eval(args: argparse.Namespace) -> int:
    import asyncio

    from mimo_tui.llm import ModelError
    from mimo_tui.skillopt.budget import BudgetExhausted
    from mimo_tui.skillopt.config import TrainConfig
    from mimo_tui.skillopt.dataset import DatasetError
    from mimo_tui.skillopt.session import SetupError, evaluate_skill, find_skill

    project = _project()
    try:
        entry = find_skill(args.skill, project.root, project.workspace.mimo_dir)
        text = _skill_text_at(project, args.skill, args.version)
        config = TrainConfig(skill=args.skill, target=args.target or project.config.get("trainer.target", "offline/target"),
                             optimizer=project.config.get("trainer.optimizer", "offline/optimizer"),
                             judge=args.judge or "", samples=args.samples)
        result = asyncio.run(evaluate_skill(config, entry, text, args.split, project.workspace.cache_dir / "skill-eval",
                                            project.config.table("models"), _gateway_factory(project), ProgressPrinter()))
    except (SetupError, DatasetError, ModelError, BudgetExhausted) as exc:  # BudgetExhausted: spend not recordable
        _say(f"mimo: {exc}")
        return 2
    print(f"{args.skill} on {args.split} with {result['target']}: {_pct(result['score'])} "
          f"({result['passed']}/{result['items']} items passed, coverage {result['coverage']:.0%})")
    for item, flip in result["failing"][:20]:
        print(f"  failed {item}: {flip}")
    return 0


def run_runs(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.run_folder import list_runs
    from mimo_tui.skillopt.staging import adoption_status

    if getattr(args, "show", None):
        from mimo_tui.commands.skill_staging import show_run

        return show_run(_project(), args.show, args.version)
    runs = list_runs(_project().workspace.runs_dir)
    if not runs:
        print("no training runs yet (`mimo skill train <skill>` starts one)")
        return 0
    for run in runs:
        no_test = run.status == "finished" and run.baseline_test is None and run.final_test is None
        scores = f"val best {_pct(run.best_val)} (no test split)" if no_test else f"test {_pct(run.baseline_test)} -> {_pct(run.final_test)}"
        print(f"{run.run_id:<40} {run.skill:<20} {run.status:<18} steps {run.steps:<3} accepted {run.accepted:<2} "
              f"{scores}" + (f"  ({run.stop_reason})" if run.stop_reason and run.status != "finished" else "")
              + _decision(adoption_status(run.path)))
    return 0


def _decision(status: dict[str, Any] | None) -> str:
    if not status:
        return ""
    return f"  [adopted v{int(status.get('version') or 0):04d}]" if status.get("status") == "adopted" else "  [discarded]"


def run_list(args: argparse.Namespace) -> int:
    from mimo_tui.skillopt.catalogue import find_skills

    project = _project()
    entries = find_skills(project.root, project.workspace.mimo_dir)
    if not entries:
        print("no skills found")
        return 0
    for entry in entries:
        dataset = "eval set" if entry.eval_dir else "no eval set"
        print(f"{entry.name:<24} {entry.origin:<16} {dataset:<12} {entry.description[:70]}")
        for problem in entry.problems:
            print(f"{'':<24} problem: {problem}")
    return 0
