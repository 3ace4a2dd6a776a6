"""First words of a question sent 1 s after mimo's interactive frame, on a fresh start, against a local server.

Run from the project root: `python bench/first_words.py [--runs 5] [--delay 1.0] [--tiny]`
(--tiny: one run, no warm-up run, 0.3 s delay: a smoke run whose figures mean little).
mimo is launched in a private tmux server (120x40) in a fresh project whose model is the local
OpenAI-compatible server (tests/fixtures/openai_server.py, in its own process, answering at once).
Once the footer is drawn, the bench waits --delay seconds, types a question with `send-keys`, presses
Enter and polls `capture-pane` every ~5 ms until the answer's first words are on the screen.
MIMO_BENCH_ROOT=/other/checkout runs another source tree (e.g. the code before a change).
"""

from __future__ import annotations

import argparse
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


def one_run(terminal: Terminal, base: Path, index: int, base_url: str, delay: float) -> tuple[float, float]:
    """(seconds to the interactive frame, seconds from Enter to the answer's first words on screen)."""
    home = base / f"home{index}"
    home.mkdir()
    env = {**isolated_env(home), "MIMO_BENCH_KEY": "sk-bench"}
    project = fresh_project(base, index, env, existing=True)
    (project / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "bench"\n\n[models.bench]\nmodel = "openai/bench"\napi_base = "{base_url}"\napi_key = "env:MIMO_BENCH_KEY"\n'
    )
    name = f"words{index}"
    exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
    shell = f"cd {shlex.quote(str(project))} && exec env {exports} {shlex.quote(PYTHON)} -m mimo_tui"
    start = time.perf_counter()
    terminal._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", shell)
    try:
        frame = _wait(terminal, name, lambda screen: bool(MIMO_READY.search(screen)), start, 20)
        time.sleep(delay)
        terminal._tmux("send-keys", "-t", name, "-l", "say something")
        sent = time.perf_counter()
        terminal._tmux("send-keys", "-t", name, "Enter")
        words = _wait(terminal, name, lambda screen: MARK in screen, sent, 30)
        return frame, words
    finally:
        terminal._tmux("kill-session", "-t", name)


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
    frames, words = [], []
    try:
        if not args.tiny:
            one_run(terminal, base, 0, server.base_url, args.delay)  # warm the disk cache and bytecode
        for i in range(1, args.runs + 1):
            frame, first = one_run(terminal, base, i, server.base_url, args.delay)
            frames.append(frame)
            words.append(first)
    finally:
        terminal.close()
        server.close()
        shutil.rmtree(base, ignore_errors=True)
    median = statistics.median(words)
    print(f"first words of a question sent {args.delay:g} s after the interactive frame (fresh start, local server), "
          f"median of {args.runs}")
    print(f"  first words  {median * 1000:7.0f} ms   runs: {', '.join(f'{w * 1000:.0f}' for w in words)}   "
          f"budget <= {BUDGET_S * 1000:.0f} ms: {'ok' if median <= BUDGET_S else 'MISSED'}")
    print(f"  interactive frame at median {statistics.median(frames) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
