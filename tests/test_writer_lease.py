"""The checkpoint writer's lease: one holder per session across processes; a dead holder's lease is free at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from mimo_tui.agent.writer_lease import WriterLease, lease_path

HOLD = """
import sys, time
from pathlib import Path
from mimo_tui.agent.writer_lease import WriterLease
lease = WriterLease(Path(sys.argv[1]))
assert lease.try_acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_lease_held_by_another_process_is_refused_and_taken_over_once_it_dies(tmp_path: Path) -> None:
    path = lease_path(tmp_path / ".mimo", "20260101-000000-abcd")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = WriterLease(path)
        assert not mine.try_acquire() and not mine.held
        assert mine.holder() == f"process {holder.pid}"
    finally:
        holder.kill()
        holder.wait(10)
    started = time.monotonic()
    assert mine.try_acquire() and mine.held  # the kernel dropped the dead process's lock: no stale-lock wait
    assert time.monotonic() - started < 0.5
    # A second writer in this same process is refused too (a lease is per writer, not per process).
    other = WriterLease(path)
    assert not other.try_acquire()
    mine.release()
    assert other.try_acquire()
    other.release()
    assert path.parent == tmp_path / ".mimo" / "cache" / "locks"
