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
from mimo_tui.skillopt.trainer import SkillChanged, Trainer
from mimo_tui.store import ConflictError, VersionedStore, Writer

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


def trained_skill_text(store: VersionedStore, entry: SkillEntry) -> str:
    """The skill the trainer edits, `.mimo/skills/<name>/SKILL.md`, copied from its source on first use."""
    rel = skill_relpath(entry.name)
    snapshot = store.read(rel)
    if snapshot.exists and snapshot.text is not None:
        return snapshot.text
    text = (entry.folder / "SKILL.md").read_text(encoding="utf-8")
    store.write(rel, text, SKILLOPT, message=f"skillopt: import skill {entry.name} ({entry.origin})")
    return text


def committer(store: VersionedStore, name: str) -> Callable[[str, str, str], str | None]:
    """Commit a new skill version, refusing when someone edited the file since the trainer's last write."""

    def commit(text: str, message: str, previous: str) -> str | None:
        rel = skill_relpath(name)
        current = store.read(rel)
        if current.exists and current.text not in (previous, text):
            raise SkillChanged(f"{rel} was edited outside this run")
        try:
            info = store.write(rel, text, SKILLOPT, message=message, base_digest=current.digest)
        except ConflictError as exc:
            raise SkillChanged(f"{rel} was edited outside this run") from exc
        return info.short if info else None

    return commit


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
    text = trained_skill_text(store, entry)
    run = RunFolder.create(runs_dir, entry.name)
    run.write_json("config.json", config.to_dict())
    run.write_skill_version(1, text)
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
    gateway = gateway_factory(ResponseCache(run.cache_dir))
    target = model_spec(config.target, models_table)
    optimizer = model_spec(config.optimizer, models_table)
    judge = model_spec(config.judge, models_table) if config.judge else None
    commit = committer(store, config.skill) if store is not None else (lambda text, message, previous: None)
    return Trainer(config, splits, run, gateway, target, optimizer, commit, subscriber, judge)


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
