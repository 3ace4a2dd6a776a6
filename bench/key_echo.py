"""Key echo on a real terminal screen: the real `mimo` streaming a long answer, beside a bare Textual Input.

Both run in windows of a private tmux server (120x40). A key is sent with `tmux send-keys` and the
screen read with `capture-pane -p` every ~2 ms until the typed character is drawn; then Backspace is
sent and timed until it is gone (so the prompt never scrolls). Each of the two is one key press. The
typed character is one the answer never contains, so counting it on the screen tells when it is shown.

mimo gets its question, and keys are pressed only once the answer's first words are on the screen and
until its last words are (presses after that are not counted: they would measure an idle app). The
reference is a bare Textual app with one focused Input, idle, in the same run: what Textual, tmux and
this polling cost by themselves. Used by bench/stream_render.py.
"""

from __future__ import annotations

import shlex
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from startup_frame import MIMO_READY, PYTHON, Terminal, fresh_project, isolated_env

POLL_S = 0.002
KEY = "Q"
INTERVAL_S = 0.1
TIMEOUT_S = 20.0

REFERENCE_APP = '''
from textual.app import App
from textual.widgets import Footer, Input, Static


class Reference(App):
    def compose(self):
        yield Static("Reference")
        yield Input(placeholder="Ask")
        yield Footer()


Reference().run()
'''
REFERENCE_READY = "Reference"


@dataclass
class EchoResult:
    """Seconds from each key press to its echo on the screen."""

    latencies: list[float]
    note: str = ""

    def line(self, label: str) -> str:
        if not self.latencies:
            return f"{label:<44} no key presses measured {self.note}".rstrip()
        ordered = sorted(self.latencies)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        return (f"{label:<44} {len(ordered):>4} presses, median {statistics.median(ordered) * 1000:6.1f} ms, "
                f"p95 {p95 * 1000:6.1f} ms, max {ordered[-1] * 1000:6.1f} ms {self.note}").rstrip()


class Window:
    """One tmux window running a program, with its screen as text."""

    def __init__(self, terminal: Terminal, name: str, command: str, cwd: Path, env: dict[str, str]) -> None:
        self.terminal, self.name = terminal, name
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        terminal._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40",
                       f"cd {shlex.quote(str(cwd))} && exec env {exports} {command}")

    def screen(self) -> str:
        return self.terminal._tmux("capture-pane", "-p", "-t", self.name).stdout

    def wait_for(self, text: str, timeout: float = TIMEOUT_S) -> None:
        started, screen = time.perf_counter(), ""
        while time.perf_counter() - started < timeout:
            screen = self.screen()
            if text in screen:
                return
            time.sleep(0.01)
        raise RuntimeError(f"{text!r} not on the screen of {self.name} within {timeout:g} s; screen was:\n{screen}")

    def send(self, *keys: str, literal: bool = False) -> None:
        self.terminal._tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def timed_press(self, *keys: str, literal: bool, shown: int) -> float | None:
        """Seconds from sending `keys` until KEY appears `shown` times on the screen (None: not within 5 s)."""
        started = time.perf_counter()
        self.send(*keys, literal=literal)
        while time.perf_counter() - started < 5:
            if self.screen().count(KEY) == shown:
                return time.perf_counter() - started
            time.sleep(POLL_S)
        return None

    def close(self) -> None:
        self.terminal._tmux("kill-session", "-t", self.name)


def press_keys(window: Window, presses: int, done_text: str | None = None) -> tuple[list[float], int]:
    """Type KEY then Backspace, timing each on the screen, `presses` times or until `done_text` is shown.

    Returns the latencies and how many presses did not echo within 5 s.
    """
    latencies: list[float] = []
    lost = 0
    while len(latencies) + lost < presses:
        screen = window.screen()
        if done_text is not None and done_text in screen:
            break
        base = screen.count(KEY)
        for keys, literal, shown in (((KEY,), True, base + 1), (("BSpace",), False, base)):
            seconds = window.timed_press(*keys, literal=literal, shown=shown)
            if seconds is None:
                lost += 1
            else:
                latencies.append(seconds)
            time.sleep(INTERVAL_S)
    return latencies, lost


def measure_reference(terminal: Terminal, base: Path, presses: int) -> EchoResult:
    script = base / "reference_input.py"
    script.write_text(REFERENCE_APP)
    home = base / "reference-home"
    home.mkdir()
    window = Window(terminal, "reference", f"{shlex.quote(PYTHON)} {shlex.quote(str(script))}", base, isolated_env(home))
    try:
        window.wait_for(REFERENCE_READY)
        time.sleep(0.3)
        latencies, lost = press_keys(window, presses)
    finally:
        window.close()
    return EchoResult(latencies, f"({lost} not shown within 5 s)" if lost else "")


def measure_mimo(terminal: Terminal, base: Path, base_url: str, first_words: str, last_words: str,
                 presses: int) -> EchoResult:
    home = base / "mimo-home"
    home.mkdir()
    env = {**isolated_env(home), "MIMO_BENCH_KEY": "sk-bench"}
    project = fresh_project(base, 0, env, existing=True)
    (project / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "bench"\n\n[models.bench]\nmodel = "openai/bench"\napi_base = "{base_url}"\n'
        'api_key = "env:MIMO_BENCH_KEY"\n'
    )
    window = Window(terminal, "mimo", f"{shlex.quote(PYTHON)} -m mimo_tui", project, env)
    try:
        deadline = time.perf_counter() + TIMEOUT_S
        while not MIMO_READY.search(window.screen()):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"mimo drew no interactive frame within {TIMEOUT_S:g} s:\n{window.screen()}")
            time.sleep(0.01)
        window.send("write it all", literal=True)
        window.send("Enter")
        deadline = time.perf_counter() + TIMEOUT_S
        while not any(words in window.screen() for words in (first_words, last_words)):
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the answer did not appear within {TIMEOUT_S:g} s:\n{window.screen()}")
            time.sleep(POLL_S)
        latencies, lost = press_keys(window, presses, done_text=last_words)
    finally:
        window.close()
    note = "while the answer streamed" + (f" ({lost} not shown within 5 s)" if lost else "")
    return EchoResult(latencies, note)


def key_echo(base_url: str, answer: str, first_words: str, last_words: str, presses: int) -> tuple[EchoResult, EchoResult] | str:
    """(mimo, reference), or why it could not be measured."""
    if shutil.which("tmux") is None:
        return "key echo on a real terminal: not measured, tmux is not installed"
    if KEY in answer:
        return f"key echo on a real terminal: not measured, the answer contains the key {KEY!r}"
    base = Path(tempfile.mkdtemp(prefix="mimo-bench-echo-"))
    terminal = Terminal()
    try:
        reference = measure_reference(terminal, base, presses)
        mimo = measure_mimo(terminal, base, base_url, first_words, last_words, presses)
    finally:
        terminal.close()
        shutil.rmtree(base, ignore_errors=True)
    return mimo, reference
