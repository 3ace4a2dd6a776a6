"""The spend journal (`spend.jsonl` in the run folder): caps that hold through crashes.

Every provider request is reserved before it is sent: the reservation is checked against the caps and
appended to the journal with an fsync, so after a kill -9 the request counts even if its reply never
arrived. When the request returns, it is settled with what it really cost. A resumed run reads the journal
and starts from what every earlier segment spent; a reservation never settled counts at its reserved
value (one call, the upper-bound dollars), which can only overstate the spend.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.budget import BudgetExhausted

JOURNAL = "spend.jsonl"


class SpendJournalError(BudgetExhausted):
    """The journal cannot be written, so no request may be sent (its spend could not survive a crash)."""


@dataclass
class SpendTotals:
    """Provider requests and their cost; `unsettled` of them were cut by a crash and count at their reservation."""

    calls: int = 0
    usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    unsettled: int = 0


def read_spend(run_dir: Path) -> SpendTotals:
    """What a run's journal says was spent; a torn last line (crash mid-append) is ignored."""
    totals = SpendTotals()
    reserved: dict[str, float] = {}
    try:
        lines = (run_dir / JOURNAL).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return totals
    for line in lines:
        try:
            record = json.loads(line)
            op = record["op"]
            if op == "reserve":
                reserved[record["id"]] = float(record.get("usd", 0.0))
            elif op in ("settle", "carried"):
                if op == "settle" and reserved.pop(record["id"], None) is None:
                    continue
                totals.calls += int(record.get("calls", 0))
                totals.usd += float(record.get("usd", 0.0))
                totals.prompt_tokens += int(record.get("prompt_tokens", 0))
                totals.completion_tokens += int(record.get("completion_tokens", 0))
        except (ValueError, KeyError, TypeError):
            continue
    totals.calls += len(reserved)
    totals.usd += sum(reserved.values())
    totals.unsettled = len(reserved)
    return totals


def _encode(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass
class _Batch:
    """Reservation lines waiting for one write and fsync."""

    lines: list[bytes]
    done: asyncio.Future[None] | None = None


@dataclass(frozen=True)
class Reservation:
    """One provider request, reserved before it is sent."""

    id: str
    model: str
    usd: float


class SpendLedger:
    """Hard caps on provider requests and dollars, journaled per request before it is sent."""

    def __init__(self, run_dir: Path, max_calls: int | None = None, max_usd: float | None = None) -> None:
        self.path = run_dir / JOURNAL
        self.max_calls = max_calls
        self.max_usd = max_usd
        self.settled = read_spend(run_dir)
        self._open: dict[str, Reservation] = {}
        self._prefix = uuid.uuid4().hex[:8]
        self._count = 0
        self._lock = threading.RLock()
        self._executor: ThreadPoolExecutor | None = None
        self._fd: int | None = None
        self._torn = False
        self._batch: _Batch | None = None
        self._changed = asyncio.Event()

    # -- what was spent --------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._open)

    @property
    def calls(self) -> int:
        """Requests settled plus those reserved and not yet back."""
        return self.settled.calls + len(self._open)

    @property
    def usd(self) -> float:
        return self.settled.usd + sum(r.usd for r in self._open.values())

    def carry(self, calls: int, usd: float, prompt_tokens: int, completion_tokens: int) -> None:
        """Start a journal for a run made before journals existed, with the spend its runtime state recorded."""
        if self.settled.calls or self.path.exists() or not (calls or usd):
            return
        self._write(_encode({"op": "carried", "calls": calls, "usd": usd, "prompt_tokens": prompt_tokens,
                             "completion_tokens": completion_tokens}), durable=True)
        self.settled = SpendTotals(calls, usd, prompt_tokens, completion_tokens)

    # -- one request -----------------------------------------------------------------------------
    async def reserve(self, model: str, usd_bound: float) -> Reservation:
        """Take room for one request under the caps and make it durable; then the request may be sent.

        Check and take happen in one step (no await in between), so parallel callers cannot both take the last
        room. When only requests in flight stand in the way, wait for them to settle (they may cost less than
        reserved, or come from the cache); raise BudgetExhausted when what is settled already leaves no room."""
        while (reason := self._no_room(model, usd_bound, self.calls, self.usd)) is not None:
            if not self._open or self._no_room(model, usd_bound, self.settled.calls, self.settled.usd) is not None:
                raise BudgetExhausted(reason)
            changed = self._changed
            await changed.wait()
        self._count += 1
        reservation = Reservation(f"{self._prefix}-{self._count}", model, usd_bound)
        self._open[reservation.id] = reservation
        await self._record(reservation)
        return reservation

    def _no_room(self, model: str, usd_bound: float, calls: int, usd: float) -> str | None:
        if self.max_calls is not None and calls + 1 > self.max_calls:
            return f"call cap reached ({self.max_calls} calls)"
        if self.max_usd is not None and usd + usd_bound > self.max_usd:
            reason = f"dollar cap reached (${self.max_usd:g})"
            if usd_bound > self.max_usd:
                reason += (f": one call to {model} may cost up to ${usd_bound:.4f} (its prompt and max output tokens); "
                           "raise --max-usd or lower --max-output-tokens")
            return reason
        return None

    async def _record(self, reservation: Reservation) -> None:
        """Make the reservation durable before its request is sent; when that fails, nothing is sent.

        Group commit: one journal thread writes and fsyncs; reservations made while it is busy wait together
        for its next flush, so parallel requests share one fsync and the event loop never waits for the disk."""
        line = _encode({"op": "reserve", "id": reservation.id, "model": reservation.model, "usd": reservation.usd})
        with self._lock:
            batch = self._batch
            if batch is None:
                batch = self._batch = _Batch([])
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="spend-journal")
                batch.done = asyncio.get_running_loop().run_in_executor(self._executor, self._flush, batch)
                # The flush outlives a cancelled waiter (a crash test, a stop), so its result is always retrieved.
                batch.done.add_done_callback(lambda done: done.cancelled() or done.exception())
            batch.lines.append(line)
        try:
            await asyncio.shield(batch.done)
        except OSError as exc:
            self._open.pop(reservation.id, None)
            self._wake()
            raise SpendJournalError(f"cannot record spend in {self.path} ({exc.strerror or exc}); "
                                    "no request is sent without it") from exc

    def _flush(self, batch: _Batch) -> None:
        """In the journal thread: take the batch (later reservations start the next one) and make it durable."""
        with self._lock:
            if self._batch is batch:
                self._batch = None
            data = b"".join(batch.lines)
        self._write(data, durable=True)

    def settle(self, reservation: Reservation, calls: int, usd: float, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Replace a reservation by what the request cost (calls 0: served from the cache after all)."""
        if self._open.pop(reservation.id, None) is None:
            return
        self._wake()
        self.settled.calls += calls
        self.settled.usd += usd
        self.settled.prompt_tokens += prompt_tokens
        self.settled.completion_tokens += completion_tokens
        record: dict[str, Any] = {"op": "settle", "id": reservation.id, "calls": calls, "usd": usd}
        if prompt_tokens or completion_tokens:
            record |= {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
        try:
            # Not fsynced: a settle lost to a power cut leaves its reservation, which only overstates the spend.
            self._write(_encode(record), durable=False)
        except OSError:
            pass

    def _wake(self) -> None:
        """Tell the requests waiting for room that a reservation was settled or dropped."""
        self._changed.set()
        self._changed = asyncio.Event()

    def totals(self) -> SpendTotals:
        """Everything spent, open reservations counted at their reserved value."""
        s = self.settled
        return SpendTotals(self.calls, self.usd, s.prompt_tokens, s.completion_tokens, s.unsettled + len(self._open))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _write(self, data: bytes, durable: bool) -> None:
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
                self._torn = self._ends_mid_line(self._fd)
            if self._torn:
                data = b"\n" + data  # a record torn by a crash or a full disk must not swallow this one
            try:
                written = os.write(self._fd, data)
            except OSError:
                self._torn = True
                raise
            if written < len(data):
                self._torn = True
                raise OSError(errno.ENOSPC, f"short write ({written} of {len(data)} bytes)")
            self._torn = False
            if not durable:
                return
            fd = os.dup(self._fd)  # fsync outside the lock (settles never wait for the disk), safe from close()
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _ends_mid_line(fd: int) -> bool:
        size = os.fstat(fd).st_size
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
