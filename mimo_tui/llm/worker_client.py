"""The app's side of the model worker: starts the child, routes its events, and a Gateway-shaped front.

The UI process never imports litellm: every model call of the app crosses a pipe to
`python -m mimo_tui.llm.worker` as the gateway's typed events. A worker that dies fails the calls
in flight with a ModelError the user can retry, and a fresh worker is started at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any

from . import offline
from ..start_trace import mark
from .cache import ResponseCache
from .models import ModelSpec
from .types import CallRecord, Completion, GatewayTotals, ModelError, StreamDone, StreamEvent, TextDelta, ToolCallDelta
from .worker_protocol import (
    MAX_LINE_BYTES,
    completion_from_wire,
    dumps,
    error_from_wire,
    record_from_wire,
    spec_to_wire,
)

STOP_GRACE_S = 1.0
STDERR_LINES = 20


class ModelWorker:
    """One child process serving model calls; started on demand, restarted when it dies."""

    def __init__(self, python: str | None = None) -> None:
        self.python = python or sys.executable
        self.restarts = 0
        self._process: asyncio.subprocess.Process | None = None
        self._queues: dict[int, asyncio.Queue[dict[str, Any]]] = {}
        self._next_id = 0
        self._ready: asyncio.Event | None = None
        self._warm: asyncio.Event | None = None
        self.wants_warm = False  # litellm was asked for: a restarted worker loads it again at once
        self._starting: asyncio.Lock | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self._closing = False

    @property
    def pid(self) -> int | None:
        """The running worker's process id, or None."""
        return self._process.pid if self._process is not None and self._process.returncode is None else None

    @property
    def is_ready(self) -> bool:
        """Whether a worker runs and serves calls (offline models at once; providers load litellm on first use)."""
        return self.pid is not None and self._ready is not None and self._ready.is_set()

    @property
    def is_warm(self) -> bool:
        """Whether a worker runs with litellm loaded, so a provider call starts without the import."""
        return self.pid is not None and self._warm is not None and self._warm.is_set()

    async def start(self) -> None:
        """Start the worker unless one runs (litellm loads in it only when `warm` asks or a provider call needs it)."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.pid is not None or self._closing:
                return
            self._ready = asyncio.Event()
            self._warm = asyncio.Event()
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            mark("worker spawned")
            process = await asyncio.create_subprocess_exec(
                self.python, "-m", "mimo_tui.llm.worker",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                limit=MAX_LINE_BYTES, env=env,
            )
            self._process = process
            self._spawn(self._read_events(process, self._ready, self._warm))
            self._spawn(self._read_stderr(process))
            if self.wants_warm:
                self._send_warm()

    async def wait_ready(self) -> None:
        """Start the worker if needed and wait until it serves calls."""
        await self.start()
        if self._ready is not None:
            await self._ready.wait()

    async def warm(self) -> None:
        """Start the worker if needed and have it load litellm (on its own core); wait until it has."""
        self.wants_warm = True
        was_running = self.pid is not None
        await self.start()
        if was_running and not self.is_warm:
            self._send_warm()
        if self._warm is not None:
            await self._warm.wait()

    def _send_warm(self) -> None:
        process = self._process
        if process is not None and process.stdin is not None:
            process.stdin.write(dumps({"op": "warm", "id": 0}))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read_events(self, process: asyncio.subprocess.Process, ready: asyncio.Event, warm: asyncio.Event) -> None:
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue
            if not line:
                break
            try:
                frame = json.loads(line)
            except json.JSONDecodeError:
                self._stderr.append(line.decode(errors="replace").rstrip())
                continue
            if frame.get("k") == "ready":
                mark("worker ready")
                ready.set()
                continue
            if frame.get("k") == "warm":
                mark("worker warm")
                warm.set()
                continue
            queue = self._queues.get(frame.get("id", 0))
            if queue is not None:
                queue.put_nowait(frame)
        code = await process.wait()
        if process is not self._process:
            return
        self._process = None
        died = {"k": "died", "code": code, "detail": self.stderr_tail()}
        pending, self._queues = self._queues, {}
        for queue in pending.values():
            queue.put_nowait(died)
        # A worker that served or was serving calls is replaced at once; one that fails on its own start is not
        # (the next call tries again), so a broken install does not loop.
        if not self._closing and (ready.is_set() or pending):
            # Start the next worker now (warm again if this one was), so a Retry does not wait for litellm's import.
            self.restarts += 1
            self._spawn(self.start())

    async def _read_stderr(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            self._stderr.append(line.decode(errors="replace").rstrip())

    def stderr_tail(self) -> str:
        """The last non-empty line the worker wrote to stderr (a crash's reason), or ''."""
        lines = [line for line in self._stderr if line.strip()]
        return lines[-1] if lines else ""

    async def call(self, frame: dict[str, Any]) -> tuple[int, asyncio.Queue[dict[str, Any]]]:
        """Send one request; its events arrive on the returned queue."""
        try:
            await self.start()
        except OSError as exc:
            self._stderr.append(f"cannot start {self.python} -m mimo_tui.llm.worker: {exc}")
        process = self._process
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._next_id += 1
        call_id = self._next_id
        if process is None or process.stdin is None:
            queue.put_nowait({"k": "died", "code": None, "detail": self.stderr_tail() or "the model worker did not start"})
            return call_id, queue
        self._queues[call_id] = queue
        mark("request sent to the worker")
        try:
            process.stdin.write(dumps({**frame, "id": call_id}))
            await process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the reader sees the exit and fails the call
        return call_id, queue

    def release(self, call_id: int, *, cancel: bool) -> None:
        """Forget a call; with cancel, tell the worker to stop it now (its provider stream is closed)."""
        self._queues.pop(call_id, None)
        process = self._process
        if cancel and process is not None and process.stdin is not None and process.returncode is None:
            try:
                process.stdin.write(dumps({"op": "cancel", "id": call_id}))
            except (BrokenPipeError, ConnectionResetError, RuntimeError):
                pass

    async def stop(self) -> None:
        """End the worker (closing its stdin ends it; a stuck one is killed)."""
        self._closing = True
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in list(self._tasks):
            task.cancel()


def _added(a: GatewayTotals, b: GatewayTotals) -> GatewayTotals:
    return GatewayTotals(**{name: getattr(a, name) + getattr(b, name) for name in vars(a)})


def _handler_reference(spec: ModelSpec) -> str | None:
    if not spec.offline:
        return None
    handler = offline._handlers.get(spec.name.removeprefix(f"{offline.PROVIDER}/"))
    if handler is None:
        return None
    return f"{handler.__module__}:{handler.__qualname__}"


def _worker_died(spec: ModelSpec, frame: dict[str, Any], partial: str) -> ModelError:
    code = frame.get("code")
    how = f"exit code {code}" if code is not None else "it did not start"
    detail = f" ({frame['detail']})" if frame.get("detail") else ""
    message = f"{spec.name}: the model worker stopped ({how}){detail}; a new one was started, Retry sends the request again"
    return ModelError(message, retryable=True, partial_text=partial, model=spec.name)


class WorkerGateway:
    """The Gateway's interface (stream, complete, warm_up, totals, on_call), served by a ModelWorker."""

    def __init__(
        self,
        worker: ModelWorker,
        max_concurrency: int = 8,
        max_retries: int = 4,
        timeout_s: float = 120,
        cache: ResponseCache | None = None,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        max_retry_after_s: float = 60.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.worker = worker
        self.cache = cache
        self.on_call = on_call
        self.timeout_s = timeout_s
        self.settings = {
            "max_concurrency": max_concurrency, "max_retries": max_retries, "timeout_s": timeout_s,
            "backoff_base_s": backoff_base_s, "backoff_max_s": backoff_max_s, "max_retry_after_s": max_retry_after_s,
        }
        self.totals = GatewayTotals()
        self._key = uuid.uuid4().hex
        # The worker reports its running totals for this gateway; a restarted worker starts again from zero.
        self._finished_workers = GatewayTotals()
        self._current_worker = GatewayTotals()
        self._here = GatewayTotals()  # cache hits and calls lost with a dead worker, counted on this side

    @property
    def is_ready(self) -> bool:
        return self.worker.is_warm

    async def warm_up(self) -> None:
        await self.worker.warm()

    def _frame(self, op: str, spec: ModelSpec, messages: list[dict], tools: list[dict] | None, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "op": op, "gateway": self._key, "settings": self.settings, "spec": spec_to_wire(spec),
            "messages": messages, "tools": tools, "params": params, "offline_handler": _handler_reference(spec),
        }

    def _take(self, frame: dict[str, Any]) -> None:
        """Apply what a terminal frame says about spend; the worker's totals for this gateway are exact."""
        totals = frame.get("totals")
        if totals:
            self._current_worker = GatewayTotals(**totals)
        self._sum()

    def _lost_worker(self) -> None:
        self._finished_workers = _added(self._finished_workers, self._current_worker)
        self._current_worker = GatewayTotals()
        self._here.errors += 1
        self._sum()

    def _sum(self) -> None:
        self.totals = _added(_added(self._finished_workers, self._current_worker), self._here)

    def _record(self, frame: dict[str, Any]) -> None:
        if self.on_call is not None:
            self.on_call(record_from_wire(frame["record"]))

    async def stream(
        self, spec: ModelSpec, messages: list[dict], tools: list[dict] | None = None, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Yield TextDelta, ToolCallDelta, then StreamDone, as Gateway.stream does; closing it early cancels in the worker."""
        params.pop("stream", None)
        call_id, queue = await self.worker.call(self._frame("stream", spec, messages, tools, params))
        partial: list[str] = []
        finished = False
        try:
            while True:
                frame = await queue.get()
                kind = frame["k"]
                if kind == "text":
                    mark("first delta")
                    partial.append(frame["text"])
                    yield TextDelta(frame["text"])
                elif kind == "tool":
                    yield ToolCallDelta(index=frame["index"], id=frame["call_id"], name=frame["name"], arguments_delta=frame["args"])
                elif kind == "call":
                    self._record(frame)
                elif kind == "done":
                    finished = True
                    self._take(frame)
                    yield StreamDone(completion_from_wire(frame["completion"]))
                    return
                elif kind == "error":
                    finished = True
                    self._take(frame)
                    raise error_from_wire(frame["error"])
                elif kind == "died":
                    finished = True
                    self._lost_worker()
                    raise _worker_died(spec, frame, "".join(partial))
        finally:
            self.worker.release(call_id, cancel=not finished)

    async def complete(
        self,
        spec: ModelSpec,
        messages: list[dict],
        tools: list[dict] | None = None,
        *,
        sample_index: int = 0,
        use_cache: bool = False,
        **params: Any,
    ) -> Completion:
        """One full completion, as Gateway.complete does (the cache is read and written on this side)."""
        params.pop("stream", None)
        key: str | None = None
        if use_cache and self.cache is not None:
            key, hit = self.cache.lookup(spec.name, messages, tools, params, sample_index)
            if hit is not None:
                self._here.cache_hits += 1
                self._sum()
                if self.on_call is not None:
                    self.on_call(CallRecord(spec.name, hit.usage, hit.latency_s, 0, cached=True, streamed=False))
                return hit
        frame = {**self._frame("complete", spec, messages, tools, params), "sample_index": sample_index}
        call_id, queue = await self.worker.call(frame)
        finished = False
        try:
            while True:
                reply = await queue.get()
                kind = reply["k"]
                if kind == "call":
                    self._record(reply)
                elif kind == "done":
                    finished = True
                    self._take(reply)
                    completion = completion_from_wire(reply["completion"])
                    break
                elif kind == "error":
                    finished = True
                    self._take(reply)
                    raise error_from_wire(reply["error"])
                elif kind == "died":
                    finished = True
                    self._lost_worker()
                    raise _worker_died(spec, reply, "")
        finally:
            self.worker.release(call_id, cancel=not finished)
        if key is not None and self.cache is not None:
            await asyncio.to_thread(self.cache.put, key, completion)
        return completion
