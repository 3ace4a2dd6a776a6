"""Set up a run for a project: find the skill and its dataset, version the skill, open the run folder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_tui.llm import Gateway, ModelSpec, ResponseCache, resolve_model
from mimo_tui.skillopt.catalogue import SkillEntry, find_skills
from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.dataset import Splits, load_splits, reference_fields
from mimo_tui.skillopt.offline_models import register_demo_models
from mimo_tui.skillopt.run_folder import RunFolder
from mimo_tui.skillopt.skill_init import add_front_matter, has_front_matter, missing_front_matter_message
from mimo_tui.skillopt.skill_files import SKILL_FILE, SkillFileError, pack, read_skill_files
from mimo_tui.skillopt.staging import write_baseline
from mimo_tui.skillopt.trainer import Trainer
from mimo_tui.store import VersionedStore, Writer

SKILLOPT = Writer("skillopt")


class SetupError(Exception):
    """The run cannot start; the message says why and what to do."""


def skill_relpath(name: str) -> str:
    return f"skills/{name}/SKILL.md"


def find_skill(name: str, project_root: Path, mimo_dir: Path) -> SkillEntry:
    entries = [e for e in find_skills(project_root, mimo_dir) if e.name == name]
    if not entries:
        known = ", ".join(sorted({e.name for e in find_skills(project_root, mimo_dir)})) or "none"
        raise SetupError(f"no skill named {name!r} (found: {known}); `mimo skill list` shows the catalogue")
    entry = entries[0]
    skill_file = entry.folder / "SKILL.md"
    if entry.problems and not has_front_matter(_read_text(skill_file)):
        raise SetupError(missing_front_matter_message(skill_file, entry.name))
    if entry.problems:  # a skill the agent's catalogue refuses is not trained or evaluated either
        raise SetupError(f"{entry.folder / 'SKILL.md'}: {'; '.join(entry.problems)}; fix its front matter first")
    return entry


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "---"  # unreadable: reported by the catalogue's own problem, not as missing front matter


def init_skill(name: str, project_root: Path, mimo_dir: Path, store: VersionedStore | None) -> Path | None:
    """`--init`: add front matter to the named skill's SKILL.md when it has none; the file changed, or None."""
    entries = [e for e in find_skills(project_root, mimo_dir) if e.name == name]
    if not entries:
        return None
    path = entries[0].folder / "SKILL.md"
    return path if add_front_matter(path, name, store) else None


def live_skill_dir(store: VersionedStore, name: str, source: Path) -> Path:
    """Where the skill the agent uses lives: the project's copy in the memory repo, else the folder it was found in."""
    copy = store.root / "skills" / name
    return copy if (copy / SKILL_FILE).is_file() else source


def baseline_files(store: VersionedStore, entry: SkillEntry) -> tuple[dict[str, str], Path]:
    """The live skill's files at the start of a run (version 1) and the folder they were read from."""
    folder = live_skill_dir(store, entry.name, entry.folder)
    try:
        return read_skill_files(folder), folder
    except SkillFileError as exc:
        raise SetupError(str(exc)) from exc


def model_spec(name: str, models_table: dict[str, Any]) -> ModelSpec:
    return resolve_model(name, models_table)


def price_with(gateway: Gateway) -> Callable[[ModelSpec, int, int], float | None]:
    """Dollar price of tokens on a model; None when the price list does not know it."""

    def price(spec: ModelSpec, prompt: int, completion: int) -> float | None:
        if spec.offline:
            return 0.0
        cost = gateway._cost(spec, prompt, completion)
        return cost if cost > 0 else None

    return price


@dataclass
class PreparedRun:
    trainer: Trainer
    run: RunFolder
    resumed: bool


def load_dataset(config: TrainConfig) -> Splits:
    """The run's dataset: a folder of three splits, or one JSONL file split by the ratios and seed."""
    path = Path(config.dataset)
    ratios = tuple(config.split_ratios)
    if len(ratios) != 3:
        raise SetupError(f"split ratios need three numbers (train, val, test), got {config.split_ratios}")
    fields = reference_fields(config.reference_field)
    if path.is_file():
        return load_splits(path.parent, single_file=path, ratios=ratios, seed=config.seed, fields=fields)  # type: ignore[arg-type]
    return load_splits(path, ratios=ratios, seed=config.seed, fields=fields)  # type: ignore[arg-type]


def new_run(
    config: TrainConfig, store: VersionedStore, runs_dir: Path, entry: SkillEntry, models_table: dict[str, Any],
    gateway_factory: Callable[[ResponseCache], Gateway], subscriber: Callable[[Any], None] | None = None,
) -> PreparedRun:
    """Create a run folder with the resolved config and version 1 of the skill."""
    register_demo_models()
    if entry.eval_dir is None and not config.dataset:
        raise SetupError(f"skill {entry.name} has no eval/ dataset (expected {entry.folder / 'eval'})")
    config.dataset = config.dataset or str(entry.eval_dir)
    problems = config.check()
    if problems:
        raise SetupError("; ".join(problems))
    splits = load_dataset(config)
    files, folder = baseline_files(store, entry)
    run = RunFolder.create(runs_dir, entry.name)
    run.write_json("config.json", config.to_dict())
    run.write_skill_version(1, pack(files))
    write_baseline(run.path, entry.name, folder, files, store)
    return PreparedRun(_trainer(config, splits, run, store, models_table, gateway_factory, subscriber), run, False)


def resume_run(
    run_dir: Path, store: VersionedStore, models_table: dict[str, Any],
    gateway_factory: Callable[[ResponseCache], Gateway], subscriber: Callable[[Any], None] | None = None,
    overrides: dict[str, Any] | None = None,
) -> PreparedRun:
    """Reopen a stopped or crashed run with its recorded config and state."""
    register_demo_models()
    run = RunFolder(run_dir)
    try:
        config = TrainConfig.from_dict(run.read_json("config.json"))
    except (OSError, ValueError) as exc:
        raise SetupError(f"{run_dir} is not a run folder with a readable config.json ({exc})") from exc
    for key, value in (overrides or {}).items():
        if value is not None:
            setattr(config, key, value)
    splits = load_dataset(config)
    trainer = _trainer(config, splits, run, store, models_table, gateway_factory, subscriber)
    state_path = run_dir / "runtime_state.json"
    if state_path.exists():
        trainer.restore(run.read_json("runtime_state.json"))
    return PreparedRun(trainer, run, True)


def _trainer(
    config: TrainConfig, splits: Splits, run: RunFolder, store: VersionedStore | None, models_table: dict[str, Any],
    gateway_factory: Callable[[ResponseCache], Gateway], subscriber: Callable[[Any], None] | None,
) -> Trainer:
    # A branch shares its parent's cache: work the parent already paid for is answered from it.
    gateway = gateway_factory(ResponseCache(Path(config.cache_dir) if config.cache_dir else run.cache_dir))
    target = model_spec(config.target, models_table)
    optimizer = model_spec(config.optimizer, models_table)
    judge = model_spec(config.judge, models_table) if config.judge else None
    return Trainer(config, splits, run, gateway, target, optimizer, subscriber, judge)


def resolve_run_dir(runs_dir: Path, ref: str) -> Path:
    """A run folder from an id, a unique id prefix or a path."""
    direct = Path(ref)
    if direct.is_dir() and (direct / "config.json").exists():
        return direct
    candidate = runs_dir / ref
    if candidate.is_dir():
        return candidate
    matches = sorted(p for p in runs_dir.glob(f"{ref}*") if p.is_dir()) if runs_dir.is_dir() else []
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise SetupError(f"no run {ref!r} in {runs_dir} (`mimo skill runs` lists them)")
    raise SetupError(f"run {ref!r} is ambiguous: {', '.join(p.name for p in matches)}")


async def evaluate_skill(
    config: TrainConfig, entry: SkillEntry, text: str, split: str, work_dir: Path, models_table: dict[str, Any],
    gateway_factory: Callable[[ResponseCache], Gateway], subscriber: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Score one skill text on one split (transfer to any target); calls are cached under work_dir."""
    from mimo_tui.skillopt.run_state import mean_score

    register_demo_models()
    if entry.eval_dir is None:
        raise SetupError(f"skill {entry.name} has no eval/ dataset")
    config.dataset = str(entry.eval_dir)
    splits = load_dataset(config)
    if not splits.split(split):
        raise SetupError(f"skill {entry.name} has no {split} split ({entry.eval_dir / (split + '.jsonl')} is missing)")
    folder = work_dir / entry.name
    folder.mkdir(parents=True, exist_ok=True)
    run = RunFolder(folder)
    trainer = _trainer(config, splits, run, None, models_table, gateway_factory, subscriber)
    scores, trajectories = await trainer.rollout(text, splits.split(split), f"eval:{split}")
    paired = sum(1 for s in scores.values() for v in s if v is not None)
    expected = sum(len(s) for s in scores.values())
    feedback = {t.task_id: t.feedback for t in trajectories if not t.passed}
    passed = sum(1 for s in scores.values() if s and all(v is not None and v >= 1.0 - 1e-9 for v in s))
    return {"target": trainer.target.label, "score": mean_score(scores), "coverage": paired / expected if expected else 0.0,
            "items": len(scores), "passed": passed, "failing": sorted(feedback.items())}
