"""The one way to call models: lazy litellm, a global concurrency limit, retries, accounting and caching."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from . import offline, prices, runtime
from .cache import ResponseCache
from .errors import to_model_error
from .models import ModelSpec
from .tokens import count_message_tokens, count_tokens
from .types import (
    CallRecord,
    Completion,
    GatewayTotals,
    ModelError,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallRequest,
    Usage,
)

OnCall = Callable[[CallRecord], None]



@dataclass
class _ToolSlot:
    id: str | None = None
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _StreamAssembler:
    """Collects stream chunks into events and, at the end, one Completion."""

    text: list[str] = field(default_factory=list)
    calls: dict[int, _ToolSlot] = field(default_factory=dict)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    yielded: bool = False

    def feed(self, chunk: Any) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            content = getattr(delta, "content", None)
            if content:
                self.text.append(content)
                events.append(TextDelta(content))
            for position, call in enumerate(getattr(delta, "tool_calls", None) or []):
                index = call.index if isinstance(getattr(call, "index", None), int) else position
                function = getattr(call, "function", None)
                name = getattr(function, "name", None) or None
                arguments = getattr(function, "arguments", None) or ""
                slot = self.calls.setdefault(index, _ToolSlot())
                if call.id:
                    slot.id = call.id
                if name:
                    slot.name = name
                slot.arguments.append(arguments)
                events.append(ToolCallDelta(index=index, id=call.id or None, name=name, arguments_delta=arguments))
            if getattr(choice, "finish_reason", None):
                self.finish_reason = choice.finish_reason
        usage = getattr(chunk, "usage", None)
        if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
            self.prompt_tokens = usage.prompt_tokens
            self.completion_tokens = usage.completion_tokens
        return events

    @property
    def partial_text(self) -> str:
        return "".join(self.text)

    def tool_calls(self) -> list[ToolCallRequest]:
        return [
            ToolCallRequest(id=slot.id or f"call_{index}", name=slot.name, arguments="".join(slot.arguments))
            for index, slot in sorted(self.calls.items())
        ]


# Request keys that are the gateway's own, not settings for an offline model's handler.
_NOT_HANDLER_PARAMS = {"model", "messages", "tools", "timeout", "api_base", "api_key", "max_retries", "stream", "stream_options"}


class Gateway:
    """Calls models through litellm with one concurrency limit, retries, token and cost accounting, and a cache."""

    def __init__(
        self,
        max_concurrency: int = 8,
        max_retries: int = 4,
        timeout_s: float = 120,
        cache: ResponseCache | None = None,
        *,
        on_call: OnCall | None = None,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 20.0,
        max_retry_after_s: float = 60.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.timeout_s = timeout_s
        self.cache = cache
        self.on_call = on_call
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.totals = GatewayTotals()
        self._semaphore = asyncio.Semaphore(max_concurrency)

    @property
    def is_ready(self) -> bool:
        """Whether litellm is imported, so the next call starts without the import delay."""
        return runtime.is_loaded()

    async def warm_up(self) -> None:
        """Import litellm in a worker thread (idempotent, safe to await concurrently)."""
        if not runtime.is_loaded():
            await asyncio.to_thread(runtime.load_litellm)

    def _needs_litellm(self, spec: ModelSpec, params: dict[str, Any]) -> bool:
        """Whether a call must wait for litellm's import: offline models are served here directly
        (a subclass may serve some endpoints without it too)."""
        return not spec.offline

    def _request(self, spec: ModelSpec, messages: list[dict], tools: list[dict] | None, params: dict[str, Any]) -> dict[str, Any]:
        request: dict[str, Any] = {**params, "model": spec.name, "messages": messages, "timeout": self.timeout_s}
        if tools:
            request["tools"] = tools
        if spec.api_base:
            request["api_base"] = spec.api_base
        if spec.api_key:
            request["api_key"] = spec.api_key
        if not spec.offline:
            # Retries are ours (with Retry-After and a shared limit); the SDK's own would hide them.
            request["max_retries"] = 0
        return request

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after_s)
            return wait + random.uniform(0, max(0.01, wait * 0.1))
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)

    def _cost(self, spec: ModelSpec, prompt_tokens: int, completion_tokens: int) -> float:
        if spec.offline:
            return 0.0
        if not runtime.is_loaded() and not prices.may_be_priced(spec.name):
            return 0.0  # what litellm answers too: no need to wait for its import
        litellm = runtime.load_litellm()
        try:
            prompt_cost, completion_cost = litellm.cost_per_token(
                model=spec.name, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            )
        except Exception:  # noqa: BLE001 - unknown models have no price; spend is then counted as 0
            return 0.0
        return float(prompt_cost + completion_cost)

    def _usage(
        self, spec: ModelSpec, messages: list[dict], text: str, calls: list[ToolCallRequest], prompt: int | None, completion: int | None
    ) -> Usage:
        if not prompt and not completion:
            prompt = count_message_tokens(messages, spec.name)
            completion = count_tokens(text, spec.name) + sum(count_tokens(c.arguments, spec.name) + 1 for c in calls)
        prompt = prompt or 0
        completion = completion or 0
        return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=self._cost(spec, prompt, completion))

    def _account(self, spec: ModelSpec, completion: Completion, attempts: int, *, cached: bool, streamed: bool) -> None:
        if cached:
            self.totals.cache_hits += 1
        else:
            self.totals.calls += 1
            self.totals.prompt_tokens += completion.usage.prompt_tokens
            self.totals.completion_tokens += completion.usage.completion_tokens
            self.totals.cost_usd += completion.usage.cost_usd
        if self.on_call is not None:
            self.on_call(
                CallRecord(
                    model=spec.name,
                    usage=completion.usage,
                    latency_s=completion.latency_s,
                    attempts=attempts,
                    cached=cached,
                    streamed=streamed,
                )
            )

    async def _retry_wait(self, err: ModelError, attempt: int) -> bool:
        if not err.retryable or attempt >= self.max_retries:
            self.totals.errors += 1
            return False
        self.totals.retries += 1
        await asyncio.sleep(self._backoff(attempt, err.retry_after))
        return True

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
        """Return one full completion, retrying transient failures; read and written through the cache when use_cache and a cache is set."""
        params.pop("stream", None)
        key: str | None = None
        if use_cache and self.cache is not None:
            key, hit = self.cache.lookup(spec.name, messages, tools, params, sample_index)
            if hit is not None:
                self._account(spec, hit, 0, cached=True, streamed=False)
                return hit
        if self._needs_litellm(spec, params):
            await self.warm_up()
        request = self._request(spec, messages, tools, params)
        attempt = 0
        while True:
            try:
                async with self._semaphore:
                    completion = await self._complete_once(spec, messages, request)
                break
            except ModelError as err:
                if not await self._retry_wait(err, attempt):
                    raise
                attempt += 1
        self._account(spec, completion, attempt + 1, cached=False, streamed=False)
        if key is not None and self.cache is not None:
            await asyncio.to_thread(self.cache.put, key, completion)
        return completion

    async def _complete_once(self, spec: ModelSpec, messages: list[dict], request: dict[str, Any]) -> Completion:
        if spec.offline:
            return await self._complete_offline(spec, messages, request)
        litellm = runtime.load_litellm()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await litellm.acompletion(**request)
        except TimeoutError as exc:
            raise ModelError(
                f"{spec.name}: no reply within {self.timeout_s:g} s", status=408, retryable=True, model=spec.name
            ) from exc
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes a ModelError
            raise to_model_error(exc, spec.name, offline=spec.offline) from exc
        latency = time.perf_counter() - started
        try:
            choice = response.choices[0]
            message = choice.message
            text = message.content or ""
            calls = [
                ToolCallRequest(id=call.id or f"call_{i}", name=call.function.name or "", arguments=call.function.arguments or "")
                for i, call in enumerate(message.tool_calls or [])
            ]
            finish = choice.finish_reason or ("tool_calls" if calls else "stop")
        except (AttributeError, IndexError, TypeError) as exc:
            raise ModelError(f"{spec.name}: reply has no choices/message ({exc})", retryable=True, model=spec.name) from exc
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        return Completion(
            text=text,
            tool_calls=calls,
            usage=self._usage(spec, messages, text, calls, prompt, completion_tokens),
            model=spec.name,
            finish_reason=finish,
            latency_s=latency,
        )

    async def stream(
        self, spec: ModelSpec, messages: list[dict], tools: list[dict] | None = None, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Yield text and tool-call deltas, then StreamDone; a cut after output raises ModelError with partial_text.

        Consume it to the end or wrap it in contextlib.aclosing, so an abandoned stream frees its slot at once.
        """
        params.pop("stream", None)
        if self._needs_litellm(spec, params):
            await self.warm_up()
        request = self._request(spec, messages, tools, params)
        request["stream"] = True
        request["stream_options"] = {"include_usage": True}
        attempt = 0
        while True:
            assembler = _StreamAssembler()
            started = time.perf_counter()
            try:
                async with self._semaphore, aclosing(self._stream_once(spec, request, assembler)) as events:
                    async for event in events:
                        assembler.yielded = True
                        yield event
                break
            except ModelError as err:
                if assembler.yielded:
                    self.totals.errors += 1
                    raise ModelError(
                        f"stream cut: {err.provider_message}",
                        provider_message=err.provider_message,
                        status=err.status,
                        retryable=err.retryable,
                        retry_after=err.retry_after,
                        partial_text=assembler.partial_text,
                        model=spec.name,
                    ) from err
                if not await self._retry_wait(err, attempt):
                    raise
                attempt += 1
        completion = self._assembled(spec, messages, assembler, started)
        self._account(spec, completion, attempt + 1, cached=False, streamed=True)
        yield StreamDone(completion)

    def _assembled(self, spec: ModelSpec, messages: list[dict], assembler: _StreamAssembler, started: float) -> Completion:
        """The whole reply a finished stream gave: its text, tool calls, usage (counted when not sent) and cost."""
        text = assembler.partial_text
        calls = assembler.tool_calls()
        return Completion(
            text=text,
            tool_calls=calls,
            usage=self._usage(spec, messages, text, calls, assembler.prompt_tokens, assembler.completion_tokens),
            model=spec.name,
            finish_reason=assembler.finish_reason or ("tool_calls" if calls else "stop"),
            latency_s=time.perf_counter() - started,
        )

    async def _offline_reply(self, spec: ModelSpec, request: dict[str, Any]) -> offline.OfflineReply:
        params = {k: v for k, v in request.items() if k not in _NOT_HANDLER_PARAMS}
        try:
            async with asyncio.timeout(self.timeout_s):
                return await offline.reply_for(spec.name, request["messages"], request.get("tools"), params)
        except TimeoutError as exc:
            raise ModelError(f"{spec.name}: no reply within {self.timeout_s:g} s", status=408, retryable=True, model=spec.name) from exc
        except LookupError as exc:
            raise ModelError(f"{spec.name}: {exc}", provider_message=str(exc), status=404, retryable=False, model=spec.name) from exc
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{spec.name}: {exc}", provider_message=str(exc), status=500, retryable=False, model=spec.name) from exc
        except Exception as exc:  # noqa: BLE001 - a handler's own failure becomes a ModelError, as a provider's would
            raise to_model_error(exc, spec.name, offline=True) from exc

    async def _complete_offline(self, spec: ModelSpec, messages: list[dict], request: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        reply = await self._offline_reply(spec, request)
        calls, usage = offline.reply_parts(messages, reply)
        requests = [ToolCallRequest(id=c["id"], name=c["function"]["name"], arguments=c["function"]["arguments"]) for c in calls]
        return Completion(
            text=reply.text,
            tool_calls=requests,
            usage=self._usage(spec, messages, reply.text, requests, usage["prompt_tokens"], usage["completion_tokens"]),
            model=spec.name,
            finish_reason="tool_calls" if calls else "stop",
            latency_s=time.perf_counter() - started,
        )

    async def _stream_offline(self, spec: ModelSpec, request: dict[str, Any], assembler: _StreamAssembler) -> AsyncIterator[StreamEvent]:
        reply = await self._offline_reply(spec, request)
        async for chunk in offline.stream_chunks(spec.name, request["messages"], reply):
            for event in assembler.feed(chunk):
                yield event
            await asyncio.sleep(0)

    async def _stream_once(self, spec: ModelSpec, request: dict[str, Any], assembler: _StreamAssembler) -> AsyncIterator[StreamEvent]:
        if spec.offline:
            async for event in self._stream_offline(spec, request, assembler):
                yield event
            return
        litellm = runtime.load_litellm()
        loop = asyncio.get_running_loop()
        try:
            # The timeout is per wait: a long answer may take minutes, a silent one may not. It is
            # disarmed while the consumer holds an event, so it never fires inside the caller's code.
            async with asyncio.timeout(self.timeout_s) as deadline:
                response = await litellm.acompletion(**request)
                chunks = response.__aiter__()
                while True:
                    deadline.reschedule(loop.time() + self.timeout_s)
                    try:
                        chunk = await chunks.__anext__()
                    except StopAsyncIteration:
                        break
                    deadline.reschedule(None)
                    for event in assembler.feed(chunk):
                        yield event
                    # Chunks already buffered arrive without a real wait: give the app a turn between them.
                    await asyncio.sleep(0)
        except TimeoutError as exc:
            raise ModelError(
                f"{spec.name}: no data within {self.timeout_s:g} s", status=408, retryable=True, model=spec.name
            ) from exc
        except Exception as exc:  # noqa: BLE001 - every provider failure becomes a ModelError
            raise to_model_error(exc, spec.name, offline=spec.offline) from exc
        if assembler.finish_reason is None and not assembler.text and not assembler.calls:
            raise ModelError(f"{spec.name}: stream ended without any output", retryable=True, model=spec.name)
