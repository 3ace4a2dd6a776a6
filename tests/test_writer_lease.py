"""The checkpoint writer's lease: one holder per session across processes; a dead holder's lease is free at once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from mimo_tui.agent import events as ev
from mimo_tui.agent.writer_lease import WriterLease, lease_path
from tests.fixtures.agent_project import AgentProject, RecordedEvents

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


def hold(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


async def test_busy_is_said_once_per_holder_not_at_every_threshold(agent_project: AgentProject) -> None:
    # Issue 16: while another process held the lease, every threshold crossed said "busy" again.
    events = RecordedEvents()
    agent = agent_project.open(events)
    writer = agent.keeper.writer
    path = lease_path(agent_project.root / ".mimo", agent.session_id)
    first = hold(path)
    try:
        assert [writer.request(f"threshold {n}") for n in range(4)] == ["busy"] * 4
        told = [e for e in events.of(ev.CheckpointFinished) if e.status == "busy"]
        assert [e.message.split(" is writing")[0] for e in told] == [f"process {first.pid}"]
    finally:
        first.kill()
        first.wait(10)
    second = hold(path)  # another process took the session's lease: that is news, said once again
    try:
        writer.request("threshold 5")
        writer.request("before a rebuild")
        told = [e for e in events.of(ev.CheckpointFinished) if e.status == "busy"]
        assert [e.message.split(" is writing")[0] for e in told] == [f"process {first.pid}", f"process {second.pid}"]
    finally:
        second.kill()
        second.wait(10)
