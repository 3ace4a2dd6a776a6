"""`mimo skill ...` in-process: catalogue, runs, a small offline training, and user mistakes without tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.skills import app_skills_dir


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = tmp_path / "proj"
    root.mkdir()
    monkeypatch.chdir(root)
    return root


def test_list_and_empty_runs(project_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["skill", "list"]) == 0
    assert "date-normalizer" in capsys.readouterr().out
    assert main(["skill", "runs"]) == 0
    assert "no training runs yet" in capsys.readouterr().out


def test_mistakes_are_messages_not_tracebacks(project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["skill", "train", "no-such-skill"]) == 2
    assert "no skill named 'no-such-skill'" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"input": "a", "expected": "b"}) + "\n{oops\n")
    assert main(["skill", "train", "date-normalizer", "--dataset", str(bad)]) == 2
    assert f"{bad}:2: not valid JSON" in capsys.readouterr().err
    assert main(["skill", "train", "--resume", "nothing-here"]) == 2
    assert "no run 'nothing-here'" in capsys.readouterr().err


def test_small_offline_training_from_the_cli(project_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             litellm_loaded: None) -> None:
    source = app_skills_dir() / "date-normalizer" / "eval"
    data = tmp_path / "data-small"
    data.mkdir()
    shutil.copy(source / "date_checks.py", data)
    rows = [line for name in ("train", "val", "test") for line in (source / f"{name}.jsonl").read_text().splitlines()[:16]]
    (data / "all.jsonl").write_text("\n".join(rows) + "\n")
    code = main(["skill", "train", "date-normalizer", "--dataset", str(data / "all.jsonl"), "--epochs", "1",
                 "--batch", "12", "--seed", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "estimate:" in captured.err and "gate: ACCEPT" in captured.err
    assert "test:       baseline" in captured.out and ": finished" in captured.out
    assert main(["skill", "runs"]) == 0
    assert "finished" in capsys.readouterr().out


def test_train_without_max_usd_takes_the_config_cap_and_says_so(project_dir: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                litellm_loaded: None) -> None:
    (project_dir / ".mimo").mkdir()
    (project_dir / ".mimo" / "config.toml").write_text("[trainer]\nmax_usd = 0.75\n")
    source = app_skills_dir() / "date-normalizer" / "eval"
    data = tmp_path / "data-tiny"
    data.mkdir()
    shutil.copy(source / "date_checks.py", data)
    rows = [line for name in ("train", "val", "test") for line in (source / f"{name}.jsonl").read_text().splitlines()[:6]]
    (data / "all.jsonl").write_text("\n".join(rows) + "\n")
    code = main(["skill", "train", "date-normalizer", "--dataset", str(data / "all.jsonl"), "--epochs", "1",
                 "--batch", "6", "--seed", "3"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "dollar cap: $0.75 (config [trainer] max_usd" in captured.err
    runs = [p for p in (project_dir / ".mimo" / "runs").iterdir() if (p / "config.json").exists()]
    assert [json.loads((p / "config.json").read_text())["max_usd"] for p in runs] == [0.75]
