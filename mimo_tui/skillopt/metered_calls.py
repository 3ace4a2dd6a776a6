"""The trainer's model calls under its caps: a cache hit is free; every provider request, retries included,
is reserved in the spend journal before it is sent and settled with its real cost after."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import math
from collections.abc import Callable
from typing import Any

from mimo_tui.llm import CallRecord, Completion, Gateway, ModelError, ModelSpec, ResponseCache, count_message_tokens, prices, runtime
from mimo_tui.skillopt.spend import Reservation, SpendLedger

# A model whose output limit the price list does not give is assumed to write this much at most.
UNKNOWN_OUTPUT_LIMIT = 65536

# The gateway reports each call (cached or not) to its on_call hook in the caller's context: it lands here.
_call_report: contextvars.ContextVar[dict[str, CallRecord] | None] = contextvars.ContextVar("skillopt_call", default=None)


class StopRequested(Exception):
    """The user asked the run to stop; finished work is kept and the run can resume."""


@functools.cache
def max_output_tokens(model: str) -> int:
    """The most tokens one reply of `model` can have, from litellm's model list."""
    if not runtime.is_loaded() and not prices.may_be_priced(model):
        return UNKNOWN_OUTPUT_LIMIT  # its list has no entry for the model: no need to import litellm to hear so
    try:
        info = runtime.load_litellm().get_model_info(model)
        return int(info.get("max_output_tokens") or info.get("max_tokens") or UNKNOWN_OUTPUT_LIMIT)
    except Exception:  # noqa: BLE001 - a model litellm does not know has no price either (its bound is then $0)
        return UNKNOWN_OUTPUT_LIMIT


def note_call(record: CallRecord) -> None:
    """Called from the gateway's on_call hook: tells the metered call in progress how the gateway served it."""
    report = _call_report.get()
    if report is not None:
        report["record"] = record


class MeteredCalls:
    """Model calls through `gateway` whose provider requests are reserved in `ledger` first."""

    def __init__(self, gateway: Gateway, ledger: SpendLedger, max_output_tokens: int | None,
                 stopped: Callable[[], bool]) -> None:
        self.gateway = gateway
        self.ledger = ledger
        self.max_output_tokens = max_output_tokens
        self.stopped = stopped
        # Retries are ours: each attempt is a provider request, reserved and journaled like the first.
        self.max_retries = gateway.max_retries
        gateway.max_retries = 0
        # Requests are reserved only a little ahead of a free gateway slot: enough to hide the journal's fsync,
        # few enough that a crash leaves at most this many reserved requests that were never sent.
        self._ahead = asyncio.Semaphore(gateway.max_concurrency + 2)

    async def complete(self, spec: ModelSpec, messages: list[dict], sample_index: int = 0, **params: Any) -> Completion:
        """One model call: free from the cache, else one reserved and journaled provider request per attempt."""
        if self.max_output_tokens is not None:
            params.setdefault("max_tokens", self.max_output_tokens)
        tools = params.pop("tools", None)
        if self._cached(spec, messages, sample_index, params, tools):
            return await self.gateway.complete(spec, messages, tools, sample_index=sample_index, use_cache=True, **params)
        attempt = 0
        while True:
            try:
                async with self._ahead:
                    # A request that cannot fit under the caps waits for calls in flight to settle, or stops here.
                    reservation = await self.ledger.reserve(spec.name, self._cost_bound(spec, messages, params))
                    return await self._request(reservation, spec, messages, sample_index, params, tools)
            except ModelError as err:
                if not err.retryable or attempt >= self.max_retries:
                    raise
                await asyncio.sleep(self.gateway._backoff(attempt, err.retry_after))
                attempt += 1
                if self.stopped():
                    raise StopRequested("stopped by the user") from err

    async def _request(self, reservation: Reservation, spec: ModelSpec, messages: list[dict], sample_index: int,
                       params: dict[str, Any], tools: list[dict] | None = None) -> Completion:
        """Send one reserved request and settle it; a cancel (a crash) leaves the reservation counted."""
        report: dict[str, CallRecord] = {}
        token = _call_report.set(report)
        try:
            completion = await self.gateway.complete(spec, messages, tools, sample_index=sample_index, use_cache=True, **params)
        except ModelError as err:
            # An HTTP error reply is not billed; a timeout or a cut connection may have been.
            billed = 0.0 if err.status is not None and 400 <= err.status < 600 and err.status != 408 else reservation.usd
            self.ledger.settle(reservation, 1, billed)
            raise
        except Exception:
            self.ledger.settle(reservation, 1, reservation.usd)
            raise
        finally:
            _call_report.reset(token)
        record = report.get("record")
        if record is not None and record.cached:  # a parallel twin filled the cache meanwhile
            self.ledger.settle(reservation, 0, 0.0)
        else:
            usage = completion.usage
            self.ledger.settle(reservation, 1, usage.cost_usd, usage.prompt_tokens, usage.completion_tokens)
        return completion

    def is_cached(self, spec: ModelSpec, messages: list[dict], sample_index: int = 0, **params: Any) -> bool:
        """Whether `complete` with these arguments would be a cache hit (free)."""
        if self.max_output_tokens is not None:
            params.setdefault("max_tokens", self.max_output_tokens)
        tools = params.pop("tools", None)
        return self._cached(spec, messages, sample_index, params, tools)

    def _cached(self, spec: ModelSpec, messages: list[dict], sample_index: int, params: dict[str, Any],
                tools: list[dict] | None = None) -> bool:
        cache = self.gateway.cache
        if cache is None:
            return False
        return cache.get(ResponseCache.key(spec.name, messages, tools, params, sample_index)) is not None

    def _cost_bound(self, spec: ModelSpec, messages: list[dict], params: dict[str, Any]) -> float:
        """Dollars one request can cost at most: its prompt (counted with a margin) plus the longest reply it
        may get (its max_tokens, else the model's output limit); 0 when no dollar cap needs it."""
        if self.ledger.max_usd is None or spec.offline:
            return 0.0
        prompt = math.ceil(count_message_tokens(messages, spec.name) * 1.1) + 16
        return self.gateway._cost(spec, prompt, int(params.get("max_tokens") or max_output_tokens(spec.name)))
