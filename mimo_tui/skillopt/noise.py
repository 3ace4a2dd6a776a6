"""The noise test before adoption: a version scored alone and beside the other installed skills (as the agent's
catalogue lists them: names and descriptions) on the validation split; a drop beyond a share is a warning that
names the items that changed. It decides nothing: adoption goes on, the user is told."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.llm import Gateway, ResponseCache
from mimo_tui.skillopt.catalogue import find_skills
from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.run_folder import RunFolder
from mimo_tui.skillopt.run_state import mean_score
from mimo_tui.skillopt.staging import StagingError, version_files

DEFAULT_DROP = 0.05  # [trainer] noise_drop: the share of the validation score a version may lose beside the others


@dataclass
class NoiseReport:
    alone: float | None
    beside: float | None
    others: list[str]
    changed: dict[str, str] = field(default_factory=dict)  # item -> "regressed" | "improved"
    warning: str | None = None


def other_skills(project_root: Path, mimo_dir: Path, skill: str) -> list[tuple[str, str]]:
    """The other skills the agent would list (highest precedence per name), as (name, description)."""
    seen: dict[str, str] = {}
    for entry in find_skills(project_root, mimo_dir):
        if entry.name != skill and entry.name not in seen and not entry.problems:
            seen[entry.name] = entry.description
    return sorted(seen.items())


async def noise_test(
    run_dir: Path, version: int, project_root: Path, mimo_dir: Path, models: dict[str, Any],
    gateway_factory: Callable[[ResponseCache], Gateway], drop: float = DEFAULT_DROP,
) -> NoiseReport:
    """Score `version` of a run on validation alone and beside the other installed skills; calls are cached with
    the run's (the alone score is usually answered already) and counted in `noise/` of the run folder."""
    from mimo_tui.skillopt.session import _trainer, load_dataset
    from mimo_tui.skillopt.skill_files import pack
    from mimo_tui.skillopt.offline_models import register_demo_models

    register_demo_models()

    try:
        config = TrainConfig.from_dict(RunFolder(run_dir).read_json("config.json"))
    except (OSError, ValueError) as exc:
        raise StagingError(f"{run_dir} has no readable config.json ({exc})") from exc
    others = other_skills(project_root, mimo_dir, config.skill)
    text = pack(version_files(run_dir, version))
    if not others:
        return NoiseReport(None, None, [])
    config.cache_dir = config.cache_dir or str(run_dir / "cache")
    config.max_calls = config.max_usd = None
    splits = load_dataset(config)
    work = RunFolder(run_dir / "noise")
    work.path.mkdir(exist_ok=True)
    trainer = _trainer(config, splits, work, None, models, gateway_factory, None)
    catalogue = "\n".join(f"- {name}: {description}" for name, description in others)
    alone, _ = await trainer.rollout(text, splits.val, "noise:alone")
    beside, _ = await trainer.rollout(text, splits.val, "noise:beside", others=catalogue)
    trainer.cap.close()
    changed: dict[str, str] = {}
    for item, scores in alone.items():
        a, b = mean_score({item: scores}), mean_score({item: beside.get(item, [])})
        if a is not None and b is not None and abs(a - b) > 1e-9:
            changed[item] = "regressed" if b < a else "improved"
    report = NoiseReport(mean_score(alone), mean_score(beside), [name for name, _ in others], changed)
    if report.alone is not None and report.beside is not None and report.alone - report.beside > drop:
        worse = sorted(item for item, flip in changed.items() if flip == "regressed")
        report.warning = (f"beside the other installed skills ({', '.join(report.others)}) v{version} scores "
                          f"{report.beside:.0%} on validation instead of {report.alone:.0%} alone; regressed: "
                          f"{', '.join(worse[:12])}{' ...' if len(worse) > 12 else ''}")
    return report
