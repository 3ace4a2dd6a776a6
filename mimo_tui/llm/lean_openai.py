"""A lean streaming path for OpenAI-compatible endpoints, used by the model worker.

`openai/<model>` with an `api_base` is plain HTTP + server-sent events: parsing the chunks directly
costs a few microseconds each where litellm's per-chunk handling costs ~0.5 ms, and it works while
litellm is still importing (seconds after launch), so the first question of a session is answered
at once. Whole replies (`complete`: the checkpoint writer, a judge, the trainer) are read from the same
stream. Errors go through the same mapping as litellm's (status, provider message, Retry-After,
retryable), and usage and cost are computed the same way once the stream ends; a model litellm's price
table cannot price (a local server's name) never waits for litellm at all.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from . import prices
from .errors import to_model_error
from .gateway import Gateway, _StreamAssembler
from .models import ModelSpec, resolve_model
from .types import Completion, ModelError, StreamEvent

PREFIX = "openai/"
# Request settings the lean path sends as they are; anything else (litellm-only options) means litellm serves the call.
_PASSED = {"temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty",
           "frequency_penalty", "tool_choice", "parallel_tool_calls", "response_format", "user", "n"}


_client: Any = None


def prepare() -> Any:
    """Import httpx and build the shared client (its TLS context takes a moment): done once, before litellm loads."""
    global _client
    if _client is None:
        import httpx

        # Waits are timed per chunk by the gateway; httpx's own timeouts only bound connecting.
        _client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10.0))
    return _client


class _Chunk(dict):
    """A parsed JSON object whose keys read as attributes (missing ones as None), as the assembler expects."""

    __getattr__ = dict.get


class EndpointError(Exception):
    """An HTTP error from the endpoint, shaped like the SDK's (status_code, body, response.headers) for to_model_error."""

    def __init__(self, status_code: int, body: Any, headers: Mapping[str, str], text: str) -> None:
        super().__init__(text)
        self.status_code = status_code
        self.body = body
        self.message = text
        self.response = type("Response", (), {"headers": headers})()


def serves(spec: ModelSpec, params: Mapping[str, Any]) -> bool:
    """Whether the lean path serves this call: an OpenAI-compatible endpoint, and only settings it passes on."""
    return bool(spec.api_base) and spec.name.startswith(PREFIX) and not spec.offline and set(params) <= _PASSED


class LeanGateway(Gateway):
    """The Gateway, streaming OpenAI-compatible endpoints without litellm (everything else goes through litellm)."""

    def _needs_litellm(self, spec: ModelSpec, params: Mapping[str, Any]) -> bool:
        # Several choices at once (n > 1) are left to litellm.
        return super()._needs_litellm(spec, params) and not (serves(spec, params) and params.get("n", 1) == 1)

    async def _stream_once(self, spec: ModelSpec, request: dict[str, Any], assembler: _StreamAssembler) -> AsyncIterator[StreamEvent]:
        params = _settings(request)
        if not serves(spec, params):
            async for event in super()._stream_once(spec, request, assembler):
                yield event
            return
        async for event in self._stream_lean(spec, request, params, assembler):
            yield event
        await self._price_table_for(spec)

    async def _complete_once(self, spec: ModelSpec, messages: list[dict], request: dict[str, Any]) -> Completion:
        """A whole reply (the checkpoint writer's, a judge's, the trainer's) read from the same stream, so a call to a
        local server never waits for litellm's import either."""
        params = _settings(request)
        if not serves(spec, params) or params.get("n", 1) != 1:
            return await super()._complete_once(spec, messages, request)
        assembler = _StreamAssembler()
        started = time.perf_counter()
        async for _event in self._stream_lean(spec, request, params, assembler):
            pass
        await self._price_table_for(spec)
        return self._assembled(spec, messages, assembler, started)

    async def _price_table_for(self, spec: ModelSpec) -> None:
        # The cost comes from litellm's price table, as on the litellm path: wait for its import, after the text,
        # unless the table cannot price this model (a local server's name): then the cost is 0 either way.
        if prices.may_be_priced(spec.name):
            await self.warm_up()

    async def _stream_lean(self, spec: ModelSpec, request: dict[str, Any], params: dict[str, Any],
                           assembler: _StreamAssembler) -> AsyncIterator[StreamEvent]:
        body: dict[str, Any] = {"model": spec.name.removeprefix(PREFIX), "messages": request["messages"], "stream": True,
                                "stream_options": {"include_usage": True}, **params}
        if request.get("tools"):
            body["tools"] = request["tools"]
        headers = {"Content-Type": "application/json"}
        key = spec.api_key or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = spec.api_base.rstrip("/") + "/chat/completions"  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s) as deadline:
                async with prepare().stream("POST", url, json=body, headers=headers) as response:
                    if response.status_code >= 400:
                        raise await _endpoint_error(response)
                    lines = response.aiter_lines().__aiter__()
                    while True:
                        deadline.reschedule(loop.time() + self.timeout_s)
                        try:
                            line = await lines.__anext__()
                        except StopAsyncIteration:
                            break
                        deadline.reschedule(None)
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        chunk = json.loads(data, object_hook=_Chunk)
                        if chunk.get("error"):
                            raise EndpointError(500, chunk, {}, str(chunk["error"]))
                        for event in assembler.feed(chunk):
                            yield event
                        await asyncio.sleep(0)
        except TimeoutError as exc:
            raise ModelError(f"{spec.name}: no data within {self.timeout_s:g} s", status=408, retryable=True, model=spec.name) from exc
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - every transport failure becomes a ModelError, as on the litellm path
            raise to_model_error(exc, spec.name) from exc
        if assembler.finish_reason is None and not assembler.text and not assembler.calls:
            raise ModelError(f"{spec.name}: stream ended without any output", retryable=True, model=spec.name)


def any_needs_litellm(names: Iterable[str], config_models: Mapping[str, Any] | None = None) -> bool:
    """Whether any of these model names (blank ones skipped) needs litellm: not an offline model, nor a local
    OpenAI-compatible server's model that litellm's price table cannot price (the lean path serves those whole).
    A name that does not resolve counts as needing it, so its error comes from the call. Reads the price table:
    call it off the event loop."""
    for name in names:
        if not name or not name.strip():
            continue
        try:
            spec = resolve_model(name, config_models)
        except ModelError:
            return True
        if not spec.offline and not (serves(spec, {}) and not prices.may_be_priced(spec.name)):
            return True
    return False


def _settings(request: dict[str, Any]) -> dict[str, Any]:
    """The request's model settings (temperature, max_tokens ...), without what every call carries."""
    return {k: v for k, v in request.items() if k not in ("model", "messages", "tools", "timeout", "api_base", "api_key",
                                                           "max_retries", "stream", "stream_options")}


async def _endpoint_error(response: Any) -> EndpointError:
    raw = (await response.aread()).decode(errors="replace")
    try:
        body: Any = json.loads(raw)
    except json.JSONDecodeError:
        body = None
    return EndpointError(response.status_code, body, dict(response.headers), raw.strip() or f"HTTP {response.status_code}")
