"""Start-up trace for the benches: when each step on the way to the first answer happened.

Only bench/first_words.py sets MIMO_BENCH_TRACE; without it `mark` is one dictionary lookup. Each line of
the file is `<wall-clock seconds> <pid> <CPU seconds of the process> <step>`, so the bench can line up the app, the
worker and its own keys, and see how much work the app did on the way.
"""

from __future__ import annotations

import os
import time

_PATH = os.environ.get("MIMO_BENCH_TRACE")
_seen: set[str] = set()


def mark(step: str, *, every: bool = False) -> None:
    """Write `step` with the time now (once per step unless `every`), when the bench asked for a trace."""
    if _PATH is None or (not every and step in _seen):
        return
    _seen.add(step)
    with open(_PATH, "a", encoding="utf-8") as trace:  # one short append per step: lines from two processes stay whole
        trace.write(f"{time.time():.6f} {os.getpid()} {time.process_time():.4f} {step}\n")
