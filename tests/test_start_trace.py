"""The benches' start-up trace: steps written to MIMO_BENCH_TRACE, once each, and nothing without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CODE = "from mimo_tui.start_trace import mark; mark('keys drawn'); mark('first delta'); mark('first delta')"


def test_each_step_is_written_once_with_the_time_and_the_process(tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    subprocess.run([sys.executable, "-c", CODE], check=True, env={**os.environ, "MIMO_BENCH_TRACE": str(trace)})
    lines = [line.split(" ", 3) for line in trace.read_text().splitlines()]
    assert [step for _t, _pid, _cpu, step in lines] == ["keys drawn", "first delta"]
    assert all(float(t) > 0 and pid.isdigit() and float(cpu) > 0 for t, pid, cpu, _step in lines)


def test_without_the_variable_nothing_is_written(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "MIMO_BENCH_TRACE"}
    subprocess.run([sys.executable, "-c", CODE], check=True, env=env, cwd=tmp_path)
    assert list(tmp_path.iterdir()) == []
