"""Key echo p95 on a real tmux screen while a 20k-token answer streams AND a training run writes 200 events/s.

Three figures in the same run (tmux 120x40, send-keys -> capture-pane shows it, see bench/key_echo.py):

- reference: a bare Textual app with one focused Input, idle;
- mimo with the side column on the trainer view (`[ui] side = "trainer"`), while the answer streams;
- the same, while a separate process also appends 200 events/s to `.mimo/runs/<id>/events.jsonl` of a real
  run folder (RunFolder.create + append_event, as the trainer writes them), the run the side trainer follows.

- mimo on the trainer pane (F4) with the item table of a step open (the palette's "Trainer: items of the
  highlighted step"), while the same writer appends 200 events/s to the run the dashboard follows: a key that
  filters the table (i, then a) is timed until the screen says "showing: improved" / "showing: all".

Target: p95 < 50 ms for the last two. For each mimo measure while the answer streams, the UI process's CPU time
(user + system, from /proc; its model worker is a process of its own and not counted) from the answer's first
words on the screen to its last, and that as a share of one core. The answer streams from the local OpenAI-compatible server of
bench/stream_render.py (its own process), spread over --stream-s seconds.

Run: python bench/workbench_keys.py [--tokens 20000] [--presses 100] [--stream-s 10] [--tiny]
(from the repo root; --tiny: a 300-token answer, 4 presses over a 1.5 s stream: a smoke run)
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.environ.get("MIMO_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, ROOT)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from key_echo import KEY, EchoResult, Window, measure_reference, press_keys  # noqa: E402
from startup_frame import MIMO_READY, PYTHON, Terminal, fresh_project, isolated_env  # noqa: E402
from stream_render import FIRST_WORDS, LAST_WORDS, ServerProcess, ordinary_markdown  # noqa: E402

EVENTS_PER_S = 200
START_TIMEOUT_S = 60.0  # the machine may be loaded: mimo's first frame waits on litellm's import

# A training process: a real run folder, then RolloutProgress events appended at a steady rate until stdin closes.
WRITER_SCRIPT = """
import json, sys, threading, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from mimo_tui.skillopt.events import RolloutProgress, RunStarted
from mimo_tui.skillopt.run_folder import RunFolder
folder = RunFolder.create(Path(sys.argv[2]), "bench-skill")
folder.write_json("config.json", {"skill": "bench-skill", "created": time.time()})
folder.write_json("runtime_state.json", {"global_step": 1, "accepted": [], "best_val": 0.5})
folder.append_event(RunStarted(folder.run_id, "bench-skill", "bench", "bench", False, {}, {}))
if len(sys.argv) > 4:  # one finished step with its gate's item flips and rollouts, for the item table
    from mimo_tui.skillopt import events as ev
    from mimo_tui.skillopt.dataset import Task
    from mimo_tui.skillopt.prompts import Trajectory
    from mimo_tui.skillopt.rollout_log import record_rollouts
    items = {f"val-{i:03d}": ("improved" if i % 5 == 0 else "stable") for i in range(40)}
    folder.append_event(ev.StepStarted(1, 1, 16, 2))
    folder.append_event(ev.GateDecided(1, "accept", 0.5, 0.6, 1.0, {"improved": 8, "regressed": 0, "still_failing": 0,
                                                                    "stable": 32}, items, "bench"))
    folder.append_event(ev.StepFinished(1, "accept", 1.0, {"epoch": 1, "step": 1, "val_before": 0.5, "val_after": 0.6}))
    for stage in ("val:incumbent", "val:candidate"):
        record_rollouts(folder.path, 1, stage, [(Task(i, f"input of {i}", {"type": "exact", "reference": "x"}), 0,
                                                 Trajectory(i, f"input of {i}", "x", 1.0, True, "")) for i in items])
rate = float(sys.argv[3])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print(folder.run_id, flush=True)
n, started = 0, time.perf_counter()
while not stop.is_set():
    n += 1
    folder.append_event(RolloutProgress("train", n, 10**9, 0))
    delay = started + n / rate - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
print(n, round(time.perf_counter() - started, 3), flush=True)
"""


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (None: not on Linux, or it has exited)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class EventWriter:
    """A separate process appending events to a new run folder under `runs_dir` at `rate` per second."""

    def __init__(self, runs_dir: Path, rate: float, with_step: bool = False) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, ROOT, str(runs_dir), str(rate),
                                         *(["step"] if with_step else [])],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.run_id = self.process.stdout.readline().strip()

    def close(self) -> str:
        """Stop writing; how many events were written at what rate."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        written = self.process.stdout.read().split()
        self.process.wait(timeout=10)
        if len(written) != 2:
            return "(the event writer reported nothing)"
        count, seconds = int(written[0]), float(written[1])
        return f"({count} events in {seconds:.1f} s = {count / max(seconds, 1e-9):.0f}/s)"


def measure_mimo_trainer_side(terminal: Terminal, base: Path, name: str, base_url: str, presses: int,
                              events_per_s: float) -> EchoResult:
    """Key echo in mimo with the side column on the trainer view while the answer streams (and events, if asked)."""
    home = base / f"{name}-home"
    home.mkdir()
    env = {**isolated_env(home), "MIMO_BENCH_KEY": "sk-bench"}
    project = fresh_project(base, len(list(base.glob("project*"))), env, existing=True)
    (project / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "bench"\n\n[models.bench]\nmodel = "openai/bench"\napi_base = "{base_url}"\n'
        'api_key = "env:MIMO_BENCH_KEY"\n\n[ui]\nside = "trainer"\n'
    )
    writer = EventWriter(project / ".mimo" / "runs", events_per_s) if events_per_s else None
    window = Window(terminal, name, f"{shlex.quote(PYTHON)} -m mimo_tui", project, env)
    terminal._tmux("set-option", "-t", name, "remain-on-exit", "on")
    pid = int(terminal._tmux("display-message", "-p", "-t", name, "#{pane_pid}").stdout.strip() or 0)
    written, cpu = "", ""
    try:
        deadline = time.perf_counter() + START_TIMEOUT_S
        while not MIMO_READY.search(window.screen()):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"mimo drew no interactive frame within {START_TIMEOUT_S:g} s:\n{window.screen()}")
            time.sleep(0.01)
        if writer is not None:
            window.wait_for("bench-skill", START_TIMEOUT_S)  # the side trainer shows the run being written
        window.send("write it all", literal=True)
        window.send("Enter")
        first_words = FIRST_WORDS["ordinary"]
        deadline = time.perf_counter() + START_TIMEOUT_S
        while not any(words in window.screen() for words in (first_words, LAST_WORDS)):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the answer did not appear within {START_TIMEOUT_S:g} s:\n{window.screen()}")
            time.sleep(0.002)
        cpu_from, wall_from = process_cpu_s(pid), time.perf_counter()
        latencies, lost = press_keys(window, presses, done_text=LAST_WORDS)
        window.wait_for(LAST_WORDS, START_TIMEOUT_S)
        cpu_to, wall = process_cpu_s(pid), time.perf_counter() - wall_from
        if cpu_from is not None and cpu_to is not None:
            cpu = f"; UI process CPU {cpu_to - cpu_from:.2f} s in {wall:.1f} s of streaming ({(cpu_to - cpu_from) / wall:.0%})"
    finally:
        window.close()
        if writer is not None:
            written = writer.close()
    note = "while the answer streamed" + (f" {written}" if written else "") + cpu
    return EchoResult(latencies, note + (f" ({lost} not shown within 5 s)" if lost else ""))


def measure_dashboard_items(terminal: Terminal, base: Path, presses: int, events_per_s: float) -> EchoResult:
    """Filter keys in the item table of the trainer pane while a run writes `events_per_s` events."""
    home = base / "items-home"
    home.mkdir()
    env = isolated_env(home)
    project = fresh_project(base, len(list(base.glob("project*"))), env, existing=True)
    writer = EventWriter(project / ".mimo" / "runs", events_per_s, with_step=True)
    window = Window(terminal, "items", f"{shlex.quote(PYTHON)} -m mimo_tui", project, env)
    latencies: list[float] = []
    lost, written = 0, ""
    try:
        deadline = time.perf_counter() + START_TIMEOUT_S
        while not MIMO_READY.search(window.screen()):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"mimo drew no interactive frame within {START_TIMEOUT_S:g} s:\n{window.screen()}")
            time.sleep(0.01)
        window.send("F4")
        window.wait_for("bench-skill", START_TIMEOUT_S)
        window.wait_for("accept", START_TIMEOUT_S)  # the step is in the step table
        window.send("C-p")
        time.sleep(0.5)
        window.send("items of the highlighted", literal=True)
        time.sleep(0.5)
        window.send("Enter")
        window.wait_for("showing: all", START_TIMEOUT_S)
        while len(latencies) + lost < presses:
            for key, shown in (("i", "showing: improved"), ("a", "showing: all")):
                started = time.perf_counter()
                window.send(key, literal=True)
                while time.perf_counter() - started < 5 and shown not in window.screen():
                    time.sleep(0.002)
                if shown in window.screen():
                    latencies.append(time.perf_counter() - started)
                else:
                    lost += 1
                time.sleep(0.1)
    finally:
        window.close()
        written = writer.close()
    return EchoResult(latencies, f"while the run it follows is written {written}" + (f" ({lost} not shown within 5 s)" if lost else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20000)
    parser.add_argument("--presses", type=int, default=100, help="key presses per measure (each echo and its erase)")
    parser.add_argument("--stream-s", type=float, default=10.0, help="spread the answer over about this many seconds")
    parser.add_argument("--events-per-s", type=float, default=EVENTS_PER_S)
    parser.add_argument("--tiny", action="store_true", help="smoke run: 300 tokens, 4 presses over a 1.5 s stream")
    args = parser.parse_args()
    if args.tiny:
        args.tokens, args.presses, args.stream_s = 300, 4, 1.5
    if shutil.which("tmux") is None:
        print("key echo with the side trainer: not measured, tmux is not installed")
        return 0
    answer = ordinary_markdown(args.tokens) + "\n\n" + LAST_WORDS + "\n"
    if KEY in answer:
        print(f"key echo with the side trainer: not measured, the answer contains the key {KEY!r}")
        return 0
    chunk_chars = 4
    chunks = max(1, len(answer) // chunk_chars)
    base = Path(tempfile.mkdtemp(prefix="mimo-bench-workbench-keys-"))
    server = ServerProcess(answer, base, chunk_chars, args.stream_s / chunks)
    terminal = Terminal()
    try:
        reference = measure_reference(terminal, base, args.presses)
        chat = measure_mimo_trainer_side(terminal, base, "chat", server.base_url, args.presses, 0)
        loaded = measure_mimo_trainer_side(terminal, base, "chat-events", server.base_url, args.presses,
                                           args.events_per_s)
        items = measure_dashboard_items(terminal, base, args.presses, args.events_per_s)
    finally:
        terminal.close()
        server.close()
        shutil.rmtree(base, ignore_errors=True)
    print(f"key echo on a real terminal screen (tmux 120x40, send-keys -> capture-pane shows it), "
          f"{args.tokens}-token answer over ~{args.stream_s:g} s, side column on the trainer view, "
          f"{os.cpu_count()} CPUs (load {os.getloadavg()[0]:.1f}):")
    print(reference.line("reference: bare Textual Input, idle"))
    print(chat.line("mimo chat, while the answer streams"))
    print(loaded.line(f"mimo chat + {args.events_per_s:g} events/s"))
    print(items.line(f"mimo F4 item table filter + {args.events_per_s:g} events/s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
