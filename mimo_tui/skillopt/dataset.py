"""Evaluation datasets: train/val/test JSONL files (or one file split by ratio and seed), checked line by line."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.graders import GRADER_TYPES, GraderError, check_grader_spec

SPLITS = ("train", "val", "test")


class DatasetError(Exception):
    """A dataset problem, located by file and line where possible."""


@dataclass(frozen=True)
class Task:
    """One task: the input the target sees and the grader that scores its output (never shown to the optimizer)."""

    id: str
    input: str
    grader: dict[str, Any]
    where: str = ""


@dataclass
class Splits:
    """The three splits of one dataset, plus the folder holding grader modules."""

    train: list[Task]
    val: list[Task]
    test: list[Task]
    folder: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def split(self, name: str) -> list[Task]:
        return {"train": self.train, "val": self.val, "test": self.test}[name]

    def all_tasks(self) -> list[Task]:
        return [*self.train, *self.val, *self.test]


def _task_from(data: Any, where: str, index: int) -> Task:
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(data).__name__}")
    raw_input = data.get("input")
    if not isinstance(raw_input, str) or not raw_input.strip():
        raise DatasetError(f"{where}: 'input' must be a non-empty string")
    grader = data.get("grader")
    if grader is None and "expected" in data:
        grader = {"type": "exact", "reference": data["expected"]}
    if not isinstance(grader, dict):
        raise DatasetError(f"{where}: 'grader' must be an object with a 'type' ({', '.join(GRADER_TYPES)})")
    try:
        check_grader_spec(grader)
    except GraderError as exc:
        raise DatasetError(f"{where}: {exc}") from exc
    task_id = data.get("id", f"{Path(where.split(':')[0]).stem}-{index}")
    return Task(id=str(task_id), input=raw_input, grader=grader, where=where)


def read_tasks(path: Path) -> list[Task]:
    """All tasks of one JSONL file; blank lines and `#` comments are skipped; a bad line raises file:line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc})") from exc
    tasks: list[Task] = []
    seen: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.msg}, column {exc.colno})") from exc
        task = _task_from(data, where, number)
        if task.id in seen:
            raise DatasetError(f"{where}: id {task.id!r} already used at {seen[task.id]}")
        seen[task.id] = where
        tasks.append(task)
    return tasks


def _refuse_overlap(splits: Splits) -> None:
    """Training items must never be scored as held-out ones: refuse shared ids or identical inputs."""
    owners: dict[str, tuple[str, Task]] = {}
    for name in SPLITS:
        for task in splits.split(name):
            for key in (f"id:{task.id}", f"input:{task.input.strip()}"):
                if key in owners and owners[key][0] != name:
                    other_split, other = owners[key]
                    what = "id" if key.startswith("id:") else "input"
                    raise DatasetError(
                        f"{task.where}: same {what} as {other.where} ({other_split}); splits must not overlap"
                    )
                owners.setdefault(key, (name, task))


def load_splits(
    folder: Path, single_file: Path | None = None, ratios: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 42
) -> Splits:
    """Load `folder/{train,val,test}.jsonl`, or split one file by `ratios` with `seed`."""
    if single_file is None and not any((folder / f"{n}.jsonl").exists() for n in SPLITS):
        candidates = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
        if len(candidates) == 1:
            single_file = candidates[0]
    if single_file is not None:
        tasks = read_tasks(single_file)
        if len(tasks) < 3:
            raise DatasetError(f"{single_file}: needs at least 3 tasks to split into train, val and test")
        if any(r < 0 for r in ratios) or sum(ratios) <= 0:
            raise DatasetError(f"split ratios must be non-negative and not all zero, got {ratios}")
        order = list(tasks)
        random.Random(seed).shuffle(order)
        total = sum(ratios)
        n_train = max(1, int(len(order) * ratios[0] / total))
        n_val = max(1, int(len(order) * ratios[1] / total))
        splits = Splits(order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :], folder)
        splits.sources = {n: str(single_file) for n in SPLITS}
    else:
        loaded: dict[str, list[Task]] = {}
        for name in SPLITS:
            path = folder / f"{name}.jsonl"
            if not path.exists():
                raise DatasetError(f"{path}: missing (a dataset needs train.jsonl, val.jsonl and test.jsonl)")
            loaded[name] = read_tasks(path)
        splits = Splits(loaded["train"], loaded["val"], loaded["test"], folder)
        splits.sources = {n: str(folder / f"{n}.jsonl") for n in SPLITS}
    for name in SPLITS:
        if not splits.split(name):
            raise DatasetError(f"{splits.sources[name]}: the {name} split is empty")
    _refuse_overlap(splits)
    return splits
