"""Each bench script this area owns runs once on tiny data and prints its figures (never a timing assertion)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
FIGURE = re.compile(r"p95\s+\d+\.\d+")


def run_bench(name: str, tmp_path: Path) -> str:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg-data"), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    done = subprocess.run([sys.executable, str(BENCH / name), "--tiny"], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, env=env)
    assert done.returncode == 0, f"{name} --tiny failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def test_memory_search_bench_prints_quality_and_the_pane_path(tmp_path: Path) -> None:
    out = run_bench("memory_search.py", tmp_path)
    for label in ("rare", "mid", "common"):
        line = next(line for line in out.splitlines() if line.strip().startswith(label))
        assert len(FIGURE.findall(line)) == 2, line  # mimo and plain bm25 side by side
        assert re.search(r"\s1\.00\s+0/", line), f"mimo's top 10 differs from plain bm25's: {line}"
    assert re.search(r"search_as_typed .*p95\s+\d", out) and re.search(r"previous pane path .*p95\s+\d", out)
    assert "the committed heading is found by name: True" in out


@pytest.mark.parametrize("name", ["store_commit.py"])
def test_store_commit_bench_prints_save_beside_raw_git(tmp_path: Path, name: str) -> None:
    out = run_bench(name, tmp_path)
    assert re.search(r"save -> committed, 200 commits .*\d+\.\d", out)
    assert re.search(r"raw git add \+ commit, same repo .*\d+\.\d", out)
    assert re.search(r"save / raw git commit in the same repo: \d+\.\d+ x", out)
