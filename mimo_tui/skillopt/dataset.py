"""Evaluation datasets: train/val/test JSONL files (or one file split by ratio and seed), checked line by line."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.graders import GRADER_TYPES, GraderError, check_grader_spec

SPLITS = ("train", "val", "test")
# Fields that hold an item's reference answer when it has no `grader` (graded by exact match), in this order.
REFERENCE_FIELDS = ("expected", "answer", "output", "target")


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


def reference_fields(configured: str = "") -> tuple[str, ...]:
    """The fields searched for a reference answer: the one set in config first, then the usual names."""
    return ((configured,) if configured else ()) + tuple(f for f in REFERENCE_FIELDS if f != configured)


def _task_from(data: Any, where: str, index: int, fields: tuple[str, ...] = REFERENCE_FIELDS) -> Task:
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: expected a JSON object, got {type(data).__name__}")
    raw_input = data.get("input")
    if not isinstance(raw_input, str) or not raw_input.strip():
        raise DatasetError(f"{where}: 'input' must be a non-empty string")
    grader = data.get("grader")
    if grader is None:
        field_name = next((f for f in fields if data.get(f) is not None), None)
        if field_name is not None:
            grader = {"type": "exact", "reference": data[field_name]}
    if not isinstance(grader, dict):
        names = ", ".join(repr(f) for f in fields)
        raise DatasetError(f"{where}: 'grader' must be an object with a 'type' ({', '.join(GRADER_TYPES)}), or give "
                           f"the reference answer in one of {names} (graded by exact match; another field name can be "
                           "set as reference_field under [trainer] in .mimo/config.toml)")
    try:
        check_grader_spec(grader)
    except GraderError as exc:
        raise DatasetError(f"{where}: {exc}") from exc
    task_id = data.get("id", f"{Path(where.split(':')[0]).stem}-{index}")
    return Task(id=str(task_id), input=raw_input, grader=grader, where=where)


def read_tasks(path: Path, fields: tuple[str, ...] = REFERENCE_FIELDS) -> list[Task]:
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
        task = _task_from(data, where, number, fields)
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
    folder: Path, single_file: Path | None = None, ratios: tuple[float, float, float] = (0.6, 0.2, 0.2), seed: int = 42,
    fields: tuple[str, ...] = REFERENCE_FIELDS,
) -> Splits:
    """Load `folder/{train,val}.jsonl` and `test.jsonl` when there is one, or split one file by `ratios` with `seed`
    (a test ratio of 0: no test split). Without a test split the run reports validation only."""
    if single_file is None and not any((folder / f"{n}.jsonl").exists() for n in SPLITS):
        candidates = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
        if len(candidates) == 1:
            single_file = candidates[0]
    if single_file is not None:
        tasks = read_tasks(single_file, fields)
        if len(tasks) < 3:
            raise DatasetError(f"{single_file}: needs at least 3 tasks to split into train, val and test")
        if any(r < 0 for r in ratios) or sum(ratios) <= 0:
            raise DatasetError(f"split ratios must be non-negative and not all zero, got {ratios}")
        order = list(tasks)
        random.Random(seed).shuffle(order)
        total = sum(ratios)
        n_train = max(1, int(len(order) * ratios[0] / total))
        n_val = max(1, int(len(order) * ratios[1] / total))
        rest = order[n_train + n_val :] if ratios[2] > 0 else []
        splits = Splits(order[:n_train], order[n_train : n_train + n_val], rest, folder)
        splits.sources = {n: str(single_file) for n in SPLITS if n != "test" or ratios[2] > 0}
    else:
        loaded: dict[str, list[Task]] = {}
        for name in SPLITS:
            path = folder / f"{name}.jsonl"
            if not path.exists():
                if name == "test":
                    loaded[name] = []
                    continue
                raise DatasetError(f"{path}: missing (a dataset needs train.jsonl and val.jsonl; test.jsonl is optional)")
            loaded[name] = read_tasks(path, fields)
        splits = Splits(loaded["train"], loaded["val"], loaded["test"], folder)
        splits.sources = {n: str(folder / f"{n}.jsonl") for n in SPLITS if n != "test" or (folder / "test.jsonl").exists()}
    for name in SPLITS:
        if name == "test" and name not in splits.sources:
            continue
        if not splits.split(name):
            raise DatasetError(f"{splits.sources[name]}: the {name} split is empty")
    _refuse_overlap(splits)
    return splits
