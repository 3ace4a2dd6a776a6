"""Time from launching `mimo` to its first interactive frame in a real terminal, beside a bare Textual app.

Run from the project root: `/work/venv/bin/python bench/startup_frame.py [--runs 5] [--tiny]`
(--tiny: one launch of each, no warm-up launch: a smoke run whose figures mean little).
Each launch happens in a window of a private tmux server (120x40); the screen is read with
`capture-pane -p` every ~5 ms until the expected text is drawn. mimo runs in a fresh git project
with its own HOME and XDG folders; it reports through MIMO_BENCH_REPORT whether litellm was
imported by its first frame, and (MIMO_BENCH_REPORT.end) whether the UI process had imported it by the
end of start-up, when its model worker has litellm loaded (the app is kept running until then).
Two moments of mimo are timed from the screen: the interactive frame (footer keys drawn, the input focused: what
the budget is about) and the full default layout (the side column lists the session's tasks and the status line
names the project, model and mode), which needs the project, the agent's stores and a session opened.
MIMO_BENCH_ROOT=/other/checkout runs another source tree (e.g. the code before a change) with this bench.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(os.environ.get("MIMO_BENCH_ROOT") or Path(__file__).resolve().parent.parent)
PYTHON = sys.executable
POLL_S = 0.005
TIMEOUT_S = 20.0
BUDGET_RATIO = 1.25
BUDGET_ABSOLUTE_S = 0.6
END_WAIT_S = 15.0

REFERENCE_APP = '''
import json, os, sys, time

from textual.app import App
from textual.widgets import Footer, Input, Static


class Reference(App):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self):
        yield Static("Chat")
        yield Input(placeholder="Ask")
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(self.report)

    def report(self):
        facts = {"litellm_imported": "litellm" in sys.modules, "t": time.time(), "cpu_s": time.process_time()}
        with open(os.environ["MIMO_BENCH_REPORT"], "w") as handle:
            json.dump(facts, handle)


Reference().run()
'''


@dataclass(frozen=True)
class Launch:
    """One timed launch: seconds to the first frame, and what the app reported about itself."""

    seconds: float
    litellm_imported: bool | None
    in_app_seconds: float | None
    cpu_seconds: float | None
    litellm_by_end: bool | None = None
    end_seconds: float | None = None
    full_seconds: float | None = None
    frame_cpu_seconds: float | None = None


@dataclass(frozen=True)
class Frames:
    """What one launch showed: seconds to the `ready` screen (and that screen), to the `full` one, and CPU by `ready`."""

    seconds: float
    screen: str
    full_seconds: float | None
    cpu_seconds: float | None


class Terminal:
    """A private tmux server whose windows run the programs under test."""

    def __init__(self) -> None:
        self.socket = f"mimo-bench-{os.getpid()}"
        self._tmux("new-session", "-d", "-s", "idle", "-x", "120", "-y", "40", "sleep 3600")
        self._count = 0

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True, text=True)

    def time_to_frame(self, command: str, ready: re.Pattern[str], cwd: Path, env: dict[str, str],
                      report: Path | None = None, end_wait_s: float = 0.0) -> tuple[float, str]:
        """Launch `command` in a new 120x40 session; seconds until the screen matches `ready`, and that screen.

        With `report`, the program is left running (up to 2 s) until it has written that file.
        """
        frames = self.time_frames(command, ready, cwd, env, report, end_wait_s)
        return frames.seconds, frames.screen

    def time_frames(self, command: str, ready: re.Pattern[str], cwd: Path, env: dict[str, str],
                    report: Path | None = None, end_wait_s: float = 0.0,
                    full: re.Pattern[str] | None = None) -> Frames:
        """As `time_to_frame`, then also the seconds until the screen matches `full`, and the CPU seconds the
        program had used when `ready` was seen (all its threads, read from /proc)."""
        self._count += 1
        name = f"run{self._count}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        shell = f"cd {shlex.quote(str(cwd))} && exec env {exports} {command}"
        start = time.perf_counter()
        self._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", shell)
        pid = self._tmux("list-panes", "-t", name, "-F", "#{pane_pid}").stdout.strip()  # the program: the shell execs it
        try:
            seconds, screen = self._wait_for(name, ready, start)
            cpu_seconds = cpu_used(pid)
            full_seconds = self._wait_for(name, full, start)[0] if full is not None else None
            while report is not None and not report.exists() and time.perf_counter() - start < seconds + 2:
                time.sleep(POLL_S)
            end = Path(f"{report}.end") if report is not None else None
            while end is not None and not end.exists() and time.perf_counter() - start < seconds + end_wait_s:
                time.sleep(0.02)
            return Frames(seconds, screen, full_seconds, cpu_seconds)
        finally:
            self._tmux("kill-session", "-t", name)

    def _wait_for(self, name: str, pattern: re.Pattern[str], start: float) -> tuple[float, str]:
        screen = ""
        while time.perf_counter() - start < TIMEOUT_S:
            screen = self._tmux("capture-pane", "-p", "-t", name).stdout
            if pattern.search(screen):
                return time.perf_counter() - start, screen
            time.sleep(POLL_S)
        raise RuntimeError(f"no frame matching {pattern.pattern!r} within {TIMEOUT_S} s; screen was:\n{screen}")

    def close(self) -> None:
        self._tmux("kill-server")
        socket = Path(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket)
        socket.unlink(missing_ok=True)


def cpu_used(pid: str) -> float | None:
    """CPU seconds used so far by every thread of process `pid` (schedstat: nanoseconds on a CPU), or None."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return sum(int((task / "schedstat").read_text().split()[0]) for task in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def isolated_env(home: Path) -> dict[str, str]:
    """HOME and XDG folders of our own, so the user's config and state play no part."""
    env = {"HOME": str(home), "TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0"}
    for name, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(home / sub)
    return env


def fresh_project(base: Path, index: int, env: dict[str, str], existing: bool) -> Path:
    """A new git project; with `existing`, mimo has already created its `.mimo/` there."""
    project = base / f"project{index}"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "README.md").write_text("# a project\n")
    if existing:
        code = "import sys; from pathlib import Path; from mimo_tui.project import Project; Project.open(Path(sys.argv[1]))"
        subprocess.run([PYTHON, "-c", code, str(project)], check=True, env={**os.environ, **env})
    return project


MIMO_READY = re.compile(r"(?s)Chat.*Memory.*Palette")
# The side column's tasks view once it has read the (new) session's tasks, and the status line once the project is open.
MIMO_FULL = re.compile(r"(?s)F3 opens the tasks.*·\s+mode \w+")
REFERENCE_READY = re.compile(r"(?s)Chat.*palette")


def read_report(report: Path, seconds: float, start_wall: float, full_seconds: float | None = None,
                frame_cpu: float | None = None) -> Launch:
    if not report.exists():
        return Launch(seconds, None, None, None, full_seconds=full_seconds, frame_cpu_seconds=frame_cpu)
    facts = json.loads(report.read_text())
    end = Path(f"{report}.end")
    by_end, end_s = None, None
    if end.exists():
        end_facts = json.loads(end.read_text())
        by_end, end_s = bool(end_facts["litellm_imported"]), end_facts["t"] - start_wall
    return Launch(seconds, bool(facts["litellm_imported"]), facts["t"] - start_wall, facts["cpu_s"], by_end, end_s,
                  full_seconds, frame_cpu)


def launch_mimo(terminal: Terminal, base: Path, index: int, existing: bool) -> Launch:
    home = base / f"home{index}"
    home.mkdir()
    report = base / f"report{index}.json"
    env = {**isolated_env(home), "MIMO_BENCH_REPORT": str(report)}
    project = fresh_project(base, index, env, existing)
    start_wall = time.time()
    frames = terminal.time_frames(f"{shlex.quote(PYTHON)} -m mimo_tui", MIMO_READY, project, env, report,
                                  end_wait_s=END_WAIT_S, full=MIMO_FULL)
    return read_report(report, frames.seconds, start_wall, frames.full_seconds, frames.cpu_seconds)


def launch_reference(terminal: Terminal, base: Path, script: Path, index: int) -> Launch:
    home = base / f"refhome{index}"
    home.mkdir()
    report = base / f"refreport{index}.json"
    env = {**isolated_env(home), "MIMO_BENCH_REPORT": str(report)}
    start_wall = time.time()
    frames = terminal.time_frames(f"{shlex.quote(PYTHON)} {shlex.quote(str(script))}", REFERENCE_READY, base, env,
                                  report)
    return read_report(report, frames.seconds, start_wall, frame_cpu=frames.cpu_seconds)


def import_profile(top: int = 10) -> list[tuple[int, int, str]]:
    """The slowest imports on the start-up path by cumulative time: (cumulative us, self us, module)."""
    # What a plain `mimo` runs: its options are read without the subcommands' parsers where the code can.
    code = ("import mimo_tui.cli as cli, mimo_tui.ui.launch, mimo_tui.ui.app, mimo_tui.themes, mimo_tui.ui_state; "
            "(hasattr(cli, 'workbench_args') and cli.workbench_args([]) is not None) or cli.build_parser()")
    proc = subprocess.run([PYTHON, "-X", "importtime", "-c", code], cwd=ROOT, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), int(match.group(1)), match.group(3)[1:] + match.group(4)))
    total = sum(self_us for _, self_us, _ in rows)
    rows.sort(key=lambda row: -row[0])
    return [(total, total, "(all imports, sum of self)")] + rows[:top]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed launches of each app (median reported)")
    parser.add_argument("--existing", action="store_true",
                        help="launch in a project whose .mimo/ already exists (default: first launch in a new project)")
    parser.add_argument("--tiny", action="store_true", help="smoke run: one launch of each, no warm-up launch")
    args = parser.parse_args()
    if args.tiny:
        args.runs = 1
    if shutil.which("tmux") is None:
        print("tmux is not installed: this benchmark needs it to read a real terminal screen; nothing measured")
        return 0
    base = Path(tempfile.mkdtemp(prefix="mimo-bench-start-"))
    script = base / "reference_app.py"
    script.write_text(REFERENCE_APP)
    terminal = Terminal()
    mimo: list[Launch] = []
    reference: list[Launch] = []
    try:
        if not args.tiny:
            launch_reference(terminal, base, script, 0)  # warm the disk cache and bytecode of both
            launch_mimo(terminal, base, 0, args.existing)
        for i in range(1, args.runs + 1):
            pair = [lambda: reference.append(launch_reference(terminal, base, script, i)),
                    lambda: mimo.append(launch_mimo(terminal, base, i, args.existing))]
            for run in pair if i % 2 else reversed(pair):
                run()
    finally:
        terminal.close()
        shutil.rmtree(base, ignore_errors=True)

    mimo_s = statistics.median(x.seconds for x in mimo)
    ref_s = statistics.median(x.seconds for x in reference)
    ratio = mimo_s / ref_s
    litellm = {x.litellm_imported for x in mimo}
    where = "a project with .mimo/ already made" if args.existing else "a new git project (first launch)"
    print(f"start to the interactive frame (footer keys drawn, input focused), 120x40 tmux pane, median of "
          f"{args.runs} interleaved launches, mimo in {where}")
    print(f"  mimo       {mimo_s * 1000:7.0f} ms   runs: {', '.join(f'{x.seconds * 1000:.0f}' for x in mimo)}")
    print(f"  reference  {ref_s * 1000:7.0f} ms   runs: {', '.join(f'{x.seconds * 1000:.0f}' for x in reference)}"
          "   (bare Textual app with a Footer)")
    print(f"  ratio      {ratio:7.2f} x    budget <= {BUDGET_RATIO} x: {'ok' if ratio <= BUDGET_RATIO else 'MISSED'}")
    print(f"  absolute   budget < {BUDGET_ABSOLUTE_S * 1000:.0f} ms: {'ok' if mimo_s < BUDGET_ABSOLUTE_S else 'MISSED'}")
    full = [x.full_seconds for x in mimo if x.full_seconds is not None]
    if full:
        print(f"  full default layout (side column lists the session's tasks, status line filled; no budget): mimo "
              f"{statistics.median(full) * 1000:.0f} ms ({statistics.median(full) / ref_s:.2f} x the reference's "
              f"interactive frame)   runs: {', '.join(f'{x * 1000:.0f}' for x in full)}")
    mimo_frame_cpu = [x.frame_cpu_seconds for x in mimo if x.frame_cpu_seconds is not None]
    ref_frame_cpu = [x.frame_cpu_seconds for x in reference if x.frame_cpu_seconds is not None]
    if mimo_frame_cpu and ref_frame_cpu:
        mimo_c, ref_c = statistics.median(mimo_frame_cpu), statistics.median(ref_frame_cpu)
        print(f"  CPU time of the process when its interactive frame was seen (from /proc; less sensitive to a busy "
              f"machine): mimo {mimo_c * 1000:.0f} ms, reference {ref_c * 1000:.0f} ms, ratio {mimo_c / ref_c:.2f} x")
    mimo_cpu = [x.cpu_seconds for x in mimo if x.cpu_seconds is not None]
    ref_cpu = [x.cpu_seconds for x in reference if x.cpu_seconds is not None]
    if mimo_cpu and ref_cpu:
        cpu_ratio = statistics.median(mimo_cpu) / statistics.median(ref_cpu)
        print(f"  CPU time by the app's after-first-refresh hook (mimo's first frame has its footer keys, the "
              f"reference's does not yet): mimo "
              f"{statistics.median(mimo_cpu) * 1000:.0f} ms, reference {statistics.median(ref_cpu) * 1000:.0f} ms, "
              f"ratio {cpu_ratio:.2f} x")
    hooks = [(statistics.median(v) * 1000) for v in ([x.in_app_seconds for x in group if x.in_app_seconds is not None]
                                                     for group in (mimo, reference)) if v]
    if len(hooks) == 2:
        print(f"  after-first-refresh hook fired at median {hooks[0]:.0f} ms (mimo), {hooks[1]:.0f} ms (reference)")
    if None in litellm:
        print("  litellm imported by first frame: UNKNOWN (the app wrote no MIMO_BENCH_REPORT)")
    else:
        print(f"  litellm imported by first frame: {'YES (budget MISSED)' if True in litellm else 'no'}")
    by_end = {x.litellm_by_end for x in mimo}
    if None in by_end:
        print(f"  litellm in the UI process by the end of start-up: UNKNOWN (no model-worker report within {END_WAIT_S:g} s)")
    else:
        ends = statistics.median(x.end_seconds for x in mimo if x.end_seconds is not None)
        print(f"  litellm in the UI process by the end of start-up (model worker ready, median {ends * 1000:.0f} ms): "
              f"{'YES' if True in by_end else 'no'}")
    print()
    print("slowest imports on the start-up path (python -X importtime, cumulative):")
    for cumulative, self_us, name in import_profile():
        print(f"  {cumulative / 1000:7.1f} ms  (self {self_us / 1000:6.1f})  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
