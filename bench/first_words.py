"""First words of a question sent 1 s after mimo's interactive frame, on a fresh start, against a local server.

Run from the project root: `python bench/first_words.py [--runs 5] [--delay 1.0] [--tiny]`
(--tiny: one run, no warm-up run, 0.3 s delay: a smoke run whose figures mean little).
mimo is launched in a private tmux server (120x40) in a fresh project whose model is the local
OpenAI-compatible server (tests/fixtures/openai_server.py, in its own process, answering at once).
Once the footer is drawn, the bench waits --delay seconds, types a question with `send-keys`, presses
Enter and polls `capture-pane` every ~5 ms until the answer's first words are on the screen, then until the turn
has ended (the status line idle: a local server's model must not wait for litellm's import to end its turn).
MIMO_BENCH_ROOT=/other/checkout runs another source tree (e.g. the code before a change).
--trace prints, per start-up step the app marks (MIMO_BENCH_TRACE, mimo_tui/start_trace.py), its median time
relative to Enter: what the first question waits for. A tree without the marks shows only the bench's own steps.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from startup_frame import MIMO_READY, POLL_S, PYTHON, Terminal, fresh_project, isolated_env  # noqa: E402
from stream_render import ServerProcess  # noqa: E402

BUDGET_S = 0.5
ANSWER = "Firstwords of the answer arrive here. " + "More text follows after them. " * 40
MARK = "Firstwords"
IDLE = re.compile(r"^ ○ \S+  ·  openai/bench", re.M)  # the status line once the turn has ended


def one_run(terminal: Terminal, base: Path, index: int, base_url: str, delay: float,
            trace: Path | None = None) -> tuple[float, float, float]:
    """(seconds to the interactive frame, seconds from Enter to the answer's first words on screen, and to the
    turn's end: the status line idle again, the call's cost counted)."""
    home = base / f"home{index}"
    home.mkdir()
    env = {**isolated_env(home), "MIMO_BENCH_KEY": "sk-bench"}
    if trace is not None:
        env["MIMO_BENCH_TRACE"] = str(trace)
    project = fresh_project(base, index, env, existing=True)
    (project / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "bench"\n\n[models.bench]\nmodel = "openai/bench"\napi_base = "{base_url}"\napi_key = "env:MIMO_BENCH_KEY"\n'
    )
    name = f"words{index}"
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    shell = f"cd {shlex.quote(str(project))} && exec env {exports} {shlex.quote(PYTHON)} -m mimo_tui"
    _mark(trace, "launched")
    start = time.perf_counter()
    terminal._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", shell)
    try:
        frame = _wait(terminal, name, lambda screen: bool(MIMO_READY.search(screen)), start, 20)
        time.sleep(delay)
        terminal._tmux("send-keys", "-t", name, "-l", "say something")
        sent = time.perf_counter()
        _mark(trace, "Enter pressed")
        terminal._tmux("send-keys", "-t", name, "Enter")
        words = _wait(terminal, name, lambda screen: MARK in screen, sent, 30)
        _mark(trace, "words on screen")
        ended = _wait(terminal, name, lambda screen: bool(IDLE.search(screen)), sent, 120)
        _mark(trace, "turn ended")
        return frame, words, ended
    finally:
        terminal._tmux("kill-session", "-t", name)


def _mark(trace: Path | None, step: str) -> None:
    if trace is not None:
        with trace.open("a", encoding="utf-8") as out:
            out.write(f"{time.time():.6f} bench - {step}\n")


def read_trace(trace: Path) -> dict[str, tuple[float, float | None]]:
    """Each step's first time, in seconds after Enter was pressed, and the CPU its process had used by then."""
    times: dict[str, tuple[float, float | None]] = {}
    for line in trace.read_text(encoding="utf-8").splitlines():
        stamp, _pid, cpu, step = line.split(" ", 3)
        times.setdefault(step, (float(stamp), None if cpu == "-" else float(cpu)))
    enter = times.get("Enter pressed", (0.0, None))[0]
    return {step: (t - enter, cpu) for step, (t, cpu) in times.items()}


def print_trace(traces: list[dict[str, tuple[float, float | None]]]) -> None:
    steps: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for times in traces:
        for step, (t, cpu) in times.items():
            steps.setdefault(step, []).append(t)
            if cpu is not None:
                cpus.setdefault(step, []).append(cpu)
    print("  steps: median ms relative to Enter (each run), and the CPU ms its process had used by then (median):")
    for step, values in sorted(steps.items(), key=lambda item: statistics.median(item[1])):
        cpu = f"cpu {statistics.median(cpus[step]) * 1000:5.0f}" if step in cpus else " " * 9
        print(f"    {statistics.median(values) * 1000:8.0f}  {cpu}  {step}   ({', '.join(f'{v * 1000:.0f}' for v in values)})")


def _wait(terminal: Terminal, name: str, ready, start: float, timeout: float) -> float:
    screen = ""
    while time.perf_counter() - start < timeout:
        screen = terminal._tmux("capture-pane", "-p", "-t", name).stdout
        if ready(screen):
            return time.perf_counter() - start
        time.sleep(POLL_S)
    raise RuntimeError(f"timed out after {timeout} s; screen was:\n{screen}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between the interactive frame and the question")
    parser.add_argument("--trace", action="store_true", help="print when each start-up step happened")
    parser.add_argument("--tiny", action="store_true", help="smoke run: one run, no warm-up run, 0.3 s delay")
    args = parser.parse_args()
    if args.tiny:
        args.runs, args.delay = 1, 0.3
    if shutil.which("tmux") is None:
        print("tmux is not installed: this benchmark needs it to read a real terminal screen; nothing measured")
        return 0
    base = Path(tempfile.mkdtemp(prefix="mimo-bench-words-"))
    server = ServerProcess(ANSWER, base, 16)
    terminal = Terminal()
    frames, words, ends = [], [], []
    traces: list[dict[str, tuple[float, float | None]]] = []
    try:
        if not args.tiny:
            one_run(terminal, base, 0, server.base_url, args.delay)  # warm the disk cache and bytecode
        for i in range(1, args.runs + 1):
            trace = base / f"trace{i}.txt" if args.trace else None
            frame, first, ended = one_run(terminal, base, i, server.base_url, args.delay, trace)
            if trace is not None:
                traces.append(read_trace(trace))
            frames.append(frame)
            words.append(first)
            ends.append(ended)
    finally:
        terminal.close()
        server.close()
        shutil.rmtree(base, ignore_errors=True)
    median = statistics.median(words)
    print(f"first words of a question sent {args.delay:g} s after the interactive frame (fresh start, local server), "
          f"median of {args.runs}")
    print(f"  first words  {median * 1000:7.0f} ms   runs: {', '.join(f'{w * 1000:.0f}' for w in words)}   "
          f"budget <= {BUDGET_S * 1000:.0f} ms: {'ok' if median <= BUDGET_S else 'MISSED'}")
    print(f"  turn ended   {statistics.median(ends) * 1000:7.0f} ms   runs: {', '.join(f'{e * 1000:.0f}' for e in ends)}")
    print(f"  interactive frame at median {statistics.median(frames) * 1000:.0f} ms")
    if traces:
        print_trace(traces)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
