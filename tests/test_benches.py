"""Each bench script this area owns runs once on tiny data and prints its figures (never a timing assertion)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
FIGURE = re.compile(r"p95\s+\d+\.\d+")


def run_bench(name: str, tmp_path: Path, path_without_tmux: bool = False, *options: str) -> str:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "xdg-data"), "XDG_CONFIG_HOME": str(tmp_path / "xdg-config")}
    if path_without_tmux:  # only git on the PATH: the bench finds no tmux
        only_git = tmp_path / "bin-without-tmux"
        only_git.mkdir()
        (only_git / "git").symlink_to(shutil.which("git") or "/usr/bin/git")
        env["PATH"] = str(only_git)
    done = subprocess.run([sys.executable, str(BENCH / name), "--tiny", *options], capture_output=True, text=True,
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
    assert re.search(r"key to screen \(the app, Pilot\) .*p95\s+\d", out)


def test_history_search_bench_prints_warm_cold_and_stored_figures(tmp_path: Path) -> None:
    out = run_bench("history_search.py", tmp_path)
    for label in ("rare", "mid", "common"):
        line = next(line for line in out.splitlines() if line.strip().startswith(label))
        assert len(FIGURE.findall(line)) == 2 and line.rstrip().endswith("1.00"), line
    for label in ("no stored lists", "lists stored by an earlier process", "after one appended message",
                  "`mimo history search` whole command"):
        assert re.search(re.escape(label) + r".*p95\s+\d", out), label


@pytest.mark.parametrize("name", ["store_commit.py"])
def test_store_commit_bench_prints_save_beside_raw_git(tmp_path: Path, name: str) -> None:
    out = run_bench(name, tmp_path)
    assert re.search(r"save -> committed, 200 commits .*\d+\.\d", out)
    assert re.search(r"raw git add \+ commit, same repo .*\d+\.\d", out)
    assert re.search(r"save / raw git commit in the same repo: \d+\.\d+ x", out)


TMUX = shutil.which("tmux") is not None
NO_TMUX = "tmux is not installed"
MEDIAN_P95_MAX = r"median\s+\d+\.\d+ ms, p95\s+\d+\.\d+ ms, max\s+\d+\.\d+ ms"


def test_stream_render_bench_prints_key_echo_on_screen_beside_a_bare_input(tmp_path: Path) -> None:
    out = run_bench("stream_render.py", tmp_path)
    assert re.search(r"ordinary, 16 chars/chunk, end to end .*tokens/s .*keys in-process \(value changed, not drawn\)", out)
    if not TMUX:
        assert NO_TMUX in out
        return
    assert re.search(r"mimo, while the answer streams\s+\d+ presses, " + MEDIAN_P95_MAX, out), out
    assert re.search(r"reference: bare Textual Input, idle\s+\d+ presses, " + MEDIAN_P95_MAX, out), out


def test_trainer_overhead_bench_prints_cpu_per_call_beside_a_raw_client(tmp_path: Path) -> None:
    out = run_bench("trainer_overhead.py", tmp_path)
    trainer = re.search(r"trainer CPU per call\s+(\d+\.\d+) ms .*over (\d+) calls", out)
    raw = re.search(r"raw client CPU per call\s+\d+\.\d+ ms .*the same (\d+) requests", out)
    assert trainer and raw, out
    assert trainer.group(2) == raw.group(1), "the raw client must make as many calls as the trainer did"
    assert re.search(r"trainer / raw client CPU per call: \d+\.\d x", out)


def test_startup_frame_bench_prints_the_frame_beside_the_reference(tmp_path: Path) -> None:
    out = run_bench("startup_frame.py", tmp_path)
    if not TMUX:
        assert NO_TMUX in out
        return
    assert re.search(r"mimo\s+\d+ ms\s+runs: \d+", out) and re.search(r"reference\s+\d+ ms\s+runs: \d+", out), out
    assert re.search(r"litellm imported by first frame: (no|YES)", out)
    assert "litellm in the UI process by the end of start-up" in out
    assert re.search(r"full default layout .*: mimo\s+\d+ ms", out), out


def test_first_words_bench_prints_the_first_words_time(tmp_path: Path) -> None:
    out = run_bench("first_words.py", tmp_path)
    if not TMUX:
        assert NO_TMUX in out
        return
    assert re.search(r"first words\s+\d+ ms\s+runs: \d+", out), out


def test_skill_learning_bench_prints_a_seed_and_the_summary(tmp_path: Path) -> None:
    out = run_bench("skill_learning.py", tmp_path)
    assert re.search(r"summary over 1 seeds", out), out


def test_mcp_startup_bench_prints_a_round_trip_beside_a_direct_call(tmp_path: Path) -> None:
    out = run_bench("mcp_startup.py", tmp_path)
    assert "MCP round trip   median" in out and "direct call      median" in out
    assert "first frame" in out.lower()


@pytest.mark.parametrize("name", ["startup_frame.py", "first_words.py", "stream_render.py", "workbench_keys.py"])
def test_a_bench_that_needs_tmux_says_so_when_it_is_missing(tmp_path: Path, name: str) -> None:
    # stream_render's headless figures need no tmux (its own test runs them): here only the part that does.
    options = ("--echo-only",) if name == "stream_render.py" else ()
    out = run_bench(name, tmp_path, True, *options)
    assert NO_TMUX in out


def test_long_session_bench_prints_rebuilds_tokens_per_step_and_reachable_facts(tmp_path: Path) -> None:
    out = run_bench("long_session.py", tmp_path)
    assert re.search(r"rebuilds\s+mimo\s+[1-9]\d*", out), out
    assert re.search(r"tokens sent per step \(requests\)\s+mimo\s+[\d,]+\s+baseline\s+[\d,]+\s+ratio \d\.\d\d", out), out
    assert re.search(r"planted facts reachable at end\s+mimo 3/3 \(100 %\)\s+baseline \d/3", out), out


def test_workbench_keys_bench_prints_reference_chat_and_chat_with_events(tmp_path: Path) -> None:
    out = run_bench("workbench_keys.py", tmp_path)
    if not TMUX:
        assert NO_TMUX in out
        return
    assert re.search(r"reference: bare Textual Input, idle\s+\d+ presses, " + MEDIAN_P95_MAX, out), out
    assert re.search(r"mimo chat, while the answer streams\s+\d+ presses, " + MEDIAN_P95_MAX, out), out
    assert re.search(r"mimo chat \+ 200 events/s\s+\d+ presses, " + MEDIAN_P95_MAX + r" while the answer streamed \(\d+ events", out), out


def test_stream_frames_bench_prints_ui_cpu_and_layouts_per_answer(tmp_path: Path) -> None:
    out = run_bench("stream_frames.py", tmp_path)
    for label in ("ordinary", "code-dense"):
        line = next(line for line in out.splitlines() if line.startswith(label))
        assert "UI-thread CPU" in line and FIGURE.search(line), line
    assert "loop stalls" in out
