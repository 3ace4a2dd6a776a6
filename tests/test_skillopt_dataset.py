"""Datasets: bad lines located as file:line, overlapping splits refused, one file split by seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mimo_tui.skillopt.dataset import DatasetError, load_splits

GOOD = {"input": "x", "expected": "y"}


def _write(folder: Path, name: str, rows: list[object]) -> Path:
    path = folder / f"{name}.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def _splits(folder: Path, train: list[object], val: list[object] | None = None, test: list[object] | None = None) -> None:
    _write(folder, "train", train)
    _write(folder, "val", val or [{"id": "v1", "input": "v", "expected": "1"}])
    _write(folder, "test", test or [{"id": "t1", "input": "t", "expected": "1"}])


def test_three_files_load(tmp_path: Path) -> None:
    _splits(tmp_path, [{"id": "a", "input": "hello", "grader": {"type": "contains", "reference": "h"}}, "", "# note"])
    splits = load_splits(tmp_path)
    assert [t.id for t in splits.train] == ["a"] and splits.val[0].grader == {"type": "exact", "reference": "1"}


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not valid JSON"),
    (json.dumps({"input": ""}), "'input' must be a non-empty string"),
    (json.dumps({"input": "x"}), "'grader' must be an object"),
    (json.dumps({"input": "x", "grader": {"type": "regex", "pattern": "("}}), "does not compile"),
    (json.dumps({"input": "x", "grader": {"type": "telepathy"}}), "unknown grader type"),
])
def test_bad_line_is_reported_as_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    _splits(tmp_path, [{"id": "ok", "input": "fine", "expected": "1"}, line])
    with pytest.raises(DatasetError) as info:
        load_splits(tmp_path)
    assert f"{tmp_path / 'train.jsonl'}:2:" in str(info.value)
    assert message in str(info.value)


def test_overlapping_splits_are_refused(tmp_path: Path) -> None:
    _splits(tmp_path, [{"id": "a", "input": "same question", "expected": "1"}],
            val=[{"id": "b", "input": "same question", "expected": "1"}])
    with pytest.raises(DatasetError, match="splits must not overlap"):
        load_splits(tmp_path)
    _splits(tmp_path, [{"id": "a", "input": "one", "expected": "1"}], test=[{"id": "a", "input": "two", "expected": "1"}])
    with pytest.raises(DatasetError, match="same id"):
        load_splits(tmp_path)


def test_duplicate_id_in_one_file(tmp_path: Path) -> None:
    _splits(tmp_path, [{"id": "a", "input": "one", "expected": "1"}, {"id": "a", "input": "two", "expected": "1"}])
    with pytest.raises(DatasetError, match="train.jsonl:2: id 'a' already used"):
        load_splits(tmp_path)


def test_missing_split_file(tmp_path: Path) -> None:
    _write(tmp_path, "train", [GOOD])
    with pytest.raises(DatasetError, match="val.jsonl: missing .*test.jsonl is optional"):
        load_splits(tmp_path)
    _write(tmp_path, "val", [GOOD | {"input": "z"}])
    splits = load_splits(tmp_path)  # train and val are enough: no test split
    assert len(splits.train) == 1 and len(splits.val) == 1 and splits.test == [] and "test" not in splits.sources


def test_one_file_is_split_by_ratio_and_seed(tmp_path: Path) -> None:
    path = _write(tmp_path, "all", [{"id": str(i), "input": f"q{i}", "expected": "a"} for i in range(20)])
    first = load_splits(tmp_path, path, (0.6, 0.2, 0.2), seed=1)
    again = load_splits(tmp_path, path, (0.6, 0.2, 0.2), seed=1)
    other = load_splits(tmp_path, path, (0.6, 0.2, 0.2), seed=2)
    assert (len(first.train), len(first.val), len(first.test)) == (12, 4, 4)
    assert [t.id for t in first.val] == [t.id for t in again.val]
    assert [t.id for t in first.val] != [t.id for t in other.val]
    assert not {t.id for t in first.train} & {t.id for t in first.val}
