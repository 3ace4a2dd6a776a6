"""The model worker: a child process of the app that imports litellm and serves every model call.

Run as `python -m mimo_tui.llm.worker`. It reads requests from stdin and writes the gateway's
events to stdout, one JSON object per line (llm/worker_protocol.py). It exits when stdin closes,
so it never outlives the app, and on Linux also when the app's process dies.
"""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import json
import os
import sys
import time
from contextlib import aclosing
from typing import Any, BinaryIO

from . import lean_openai, offline, runtime
from .gateway import Gateway
from .lean_openai import LeanGateway
from .low_priority import run_at_lower_priority
from .types import CallRecord, ModelError, StreamDone, TextDelta, ToolCallDelta
from .worker_protocol import (
    MAX_LINE_BYTES,
    completion_to_wire,
    dumps,
    error_to_wire,
    record_to_wire,
    spec_from_wire,
    totals_to_wire,
)

# Text deltas are gathered this long before they cross the pipe: one line per ~60 Hz frame,
# not one per provider chunk, keeps the UI process's per-chunk work near zero.
COALESCE_S = 0.016
LITELLM_IMPORT_NICENESS = 10
_current_call: contextvars.ContextVar[int] = contextvars.ContextVar("current_call", default=0)


def _die_with_parent() -> None:
    """Ask Linux to end this process when the app dies (stdin EOF covers every other case)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class WorkerServer:
    """Serves requests from one app: one Gateway per app-side gateway, one task per call."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.gateways: dict[str, Gateway] = {}
        self.calls: dict[int, asyncio.Task[None]] = {}
        self._warming: asyncio.Task[None] | None = None

    def send(self, frame: dict[str, Any]) -> None:
        self.out.write(dumps(frame))
        self.out.flush()

    def gateway_for(self, key: str, settings: dict[str, Any]) -> Gateway:
        gateway = self.gateways.get(key)
        if gateway is None:
            gateway = LeanGateway(**settings, on_call=self._on_call)
            self.gateways[key] = gateway
        return gateway

    def _on_call(self, record: CallRecord) -> None:
        self.send({"id": _current_call.get(), "k": "call", "record": record_to_wire(record)})

    async def start(self) -> None:
        await asyncio.to_thread(lean_openai.prepare)
        self.send({"k": "ready", "pid": os.getpid()})

    async def warm(self) -> None:
        """Load litellm before the first provider call needs it (offline models never do)."""
        if self._warming is None:
            self._warming = asyncio.get_running_loop().create_task(self._load_litellm())
        await self._warming
        self.send({"k": "warm"})

    async def _load_litellm(self) -> None:
        # Below the app's priority: the first answer streams on the lean path meanwhile, and on a busy machine the
        # import would take the CPU the app's start-up and that stream need.
        litellm = await run_at_lower_priority(runtime.load_litellm, LITELLM_IMPORT_NICENESS, "import litellm")
        await _warm_provider_path(litellm)

    def handle(self, request: dict[str, Any]) -> None:
        op = request.get("op")
        call_id = int(request.get("id", 0))
        if op == "warm":
            asyncio.get_running_loop().create_task(self.warm())
            return
        if op == "cancel":
            task = self.calls.pop(call_id, None)
            if task is not None:
                task.cancel()
            return
        if op in ("stream", "complete"):
            task = asyncio.get_running_loop().create_task(self._serve(call_id, op, request))
            self.calls[call_id] = task
            task.add_done_callback(lambda _t, i=call_id: self.calls.pop(i, None))

    async def _serve(self, call_id: int, op: str, request: dict[str, Any]) -> None:
        _current_call.set(call_id)
        gateway = self.gateway_for(request["gateway"], request["settings"])
        try:
            _ensure_offline_handler(request.get("offline_handler"), request["spec"]["name"])
            spec = spec_from_wire(request["spec"])
            if op == "stream":
                await self._stream(call_id, gateway, spec, request)
            else:
                completion = await gateway.complete(
                    spec, request["messages"], request.get("tools"), sample_index=request.get("sample_index", 0),
                    use_cache=False, **request.get("params", {}),
                )
                self.send({"id": call_id, "k": "done", "completion": completion_to_wire(completion),
                           "totals": totals_to_wire(gateway.totals)})
        except asyncio.CancelledError:
            raise
        except ModelError as err:
            self.send({"id": call_id, "k": "error", "error": error_to_wire(err), "totals": totals_to_wire(gateway.totals)})
        except Exception as exc:  # noqa: BLE001 - the app must hear of every failure, never a silent hang
            err = ModelError(f"{request['spec'].get('name')}: model worker failed: {type(exc).__name__}: {exc}")
            self.send({"id": call_id, "k": "error", "error": error_to_wire(err), "totals": totals_to_wire(gateway.totals)})

    async def _stream(self, call_id: int, gateway: Gateway, spec: Any, request: dict[str, Any]) -> None:
        pending: list[str] = []
        first_at = 0.0
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def flush() -> None:
            nonlocal timer
            if timer is not None:
                timer.cancel()
                timer = None
            if pending:
                self.send({"id": call_id, "k": "text", "text": "".join(pending)})
                pending.clear()

        try:
            stream = gateway.stream(spec, request["messages"], request.get("tools"), **request.get("params", {}))
            async with aclosing(stream) as events:
                async for event in events:
                    if isinstance(event, TextDelta):
                        if not pending:
                            first_at = time.perf_counter()
                            timer = loop.call_later(COALESCE_S, flush)
                        pending.append(event.text)
                        if time.perf_counter() - first_at >= COALESCE_S:
                            flush()
                        continue
                    flush()
                    if isinstance(event, ToolCallDelta):
                        self.send({"id": call_id, "k": "tool", "index": event.index, "call_id": event.id,
                                   "name": event.name, "args": event.arguments_delta})
                    elif isinstance(event, StreamDone):
                        self.send({"id": call_id, "k": "done", "completion": completion_to_wire(event.completion),
                                   "totals": totals_to_wire(gateway.totals)})
        except ModelError:
            flush()  # the text that came before a cut is shown, then the error
            raise
        finally:
            if timer is not None:
                timer.cancel()


async def _warm_provider_path(litellm: Any) -> None:
    """Make one streamed call to a closed local port: litellm's first call imports ~500 more modules (~1 s),
    which would otherwise delay the user's first answer. Nothing leaves the machine."""
    try:
        response = await litellm.acompletion(
            model="openai/warm-up", api_base="http://127.0.0.1:1/v1", api_key="warm-up", max_retries=0, timeout=2,
            messages=[{"role": "user", "content": "warm up"}], stream=True, stream_options={"include_usage": True},
        )
        async for _chunk in response:
            pass
    except Exception:  # noqa: BLE001 - the refused connection is the expected end of the warm-up
        pass


def _ensure_offline_handler(reference: str | None, model: str) -> None:
    """Register the app's handler for an offline model here too, imported from its module."""
    if not reference:
        return
    bare = model.removeprefix(f"{offline.PROVIDER}/")
    module_name, _, qualname = reference.partition(":")
    current = offline._handlers.get(bare)
    if current is not None and f"{current.__module__}:{current.__qualname__}" == reference:
        return
    if "<locals>" in qualname or not module_name:
        raise ModelError(f"{model}: its handler {reference} is defined inside a function, so the model worker cannot load it",
                         model=model)
    handler: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        handler = getattr(handler, part)
    offline.register_offline_model(bare, handler)


async def serve(stdin: asyncio.StreamReader, server: WorkerServer) -> None:
    starting = asyncio.get_running_loop().create_task(server.start())
    while True:
        line = await stdin.readline()
        if not line:
            break
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue
        server.handle(request)
    starting.cancel()


async def _main(out: BinaryIO) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    await serve(reader, WorkerServer(out))
    # The app is gone: exit now, without waiting for litellm's import thread or open connections.
    out.flush()
    os._exit(0)


def main() -> None:
    _die_with_parent()
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(1), "wb", buffering=1 << 16)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        asyncio.run(_main(out))
    except KeyboardInterrupt:
        pass
    # Open provider connections and litellm's threads must not keep a dead app's worker alive.
    os._exit(0)


if __name__ == "__main__":
    main()
