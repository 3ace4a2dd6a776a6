"""Which process is training a run: `process.json` in the run folder while a segment runs, so any reader can tell
a live run from one whose process was killed (kill -9 leaves no run_finished event)."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mimo_tui.atomic_file import atomic_write

PROCESS_FILE = "process.json"


@contextmanager
def training_process(run_dir: Path) -> Iterator[None]:
    """Mark `run_dir` as trained by this process until the block ends (the mark is left behind by a crash)."""
    path = run_dir / PROCESS_FILE
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
    atomic_write(path, json.dumps(record).encode("utf-8"))
    try:
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass


def process_state(run_dir: Path) -> str | None:
    """"alive" or "gone" for the run's recorded trainer process on this host; None when none is recorded or
    it runs elsewhere (then only the event log's age can tell)."""
    try:
        record = json.loads((run_dir / PROCESS_FILE).read_text(encoding="utf-8"))
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("host") != socket.gethostname():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        return "alive"
    return "gone" if _zombie(pid) else "alive"


def _zombie(pid: int) -> bool:
    """A killed child nobody has reaped yet still answers kill(0)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
