"""bench/dream_distill.py runs on tiny data and prints its figures (never a timing assertion)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_benches import run_bench


def test_dream_distill_bench_prints_its_figures(tmp_path: Path) -> None:
    out = run_bench("dream_distill.py", tmp_path)
    assert re.search(r"duplicates merged: 5/5 planted, 0 wrong merges", out), out
    assert re.search(r"stale paths caught: 4/4 planted, 0 false flags", out), out
    assert re.search(r"workflows found: 3/3 planted; precision 1\.00, recall 1\.00", out), out
    assert re.search(r"MEMORY\.md: \d+ -> \d+ lines", out) and "model calls: 0" in out
    assert re.search(r"caps \(200 lines, 10240 bytes\): \d+ lines / \d+ bytes -> (\d+) / (\d+)", out)
