"""A `mimo skill train` subprocess started from the pane: its log, its run folder once known, a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import mimo_tui


@dataclass
class TrainingProcess:
    """One training subprocess; `run_id` is filled in when its run folder appears."""

    skill: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    known_runs: frozenset[str]
    run_id: str | None = None
    started: float = field(default_factory=time.time)
    stop_sent: bool = False

    @classmethod
    def start(cls, root: Path, args: list[str], skill: str, log_dir: Path, known_runs: frozenset[str],
              run_id: str | None = None) -> TrainingProcess:
        """Start `python -m mimo_tui skill train ARGS` in the project root, output to a log file."""
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{skill}-{os.getpid()}.log"
        env = dict(os.environ)
        # The subprocess must run the same mimo_tui as this app, not whichever one is installed.
        package_parent = str(Path(mimo_tui.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
        with open(log_path, "wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "mimo_tui", "skill", "train", *args], cwd=root, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return cls(skill, popen, log_path, known_runs, run_id)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """Ask the trainer to stop after the calls in flight (its Ctrl-C handler); the run stays resumable."""
        if self.alive:
            self.stop_sent = True
            self.popen.send_signal(signal.SIGINT)

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_parent = str(Path(mimo_tui.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    return env


def estimate_new_run(root: Path, skill: str, target: str, optimizer: str, timeout_s: float = 90.0) -> dict:
    """The pre-run estimate of training `skill` (`mimo skill train --estimate-only`), made in a throwaway folder:
    calls, tokens, usd, price_known, paid and a one-line `text`; or `error` saying why there is none."""
    import json

    command = [sys.executable, "-m", "mimo_tui", "skill", "train", skill, "--target", target, "--optimizer", optimizer,
               "--estimate-only"]
    try:
        proc = subprocess.run(command, cwd=root, env=_child_env(), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"the estimate could not be made: {exc}"}
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if isinstance(result, dict):
            return result
    tail = " ".join(proc.stderr.strip().splitlines()[-2:])
    return {"error": f"the estimate could not be made (exit {proc.returncode}): {tail}"}
