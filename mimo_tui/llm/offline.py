"""Offline models: handlers registered by name, served by the gateway directly (no litellm import) and to
litellm as the `offline` custom provider, for code that calls litellm itself."""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .tokens import count_message_tokens, count_tokens

PROVIDER = "offline"


@dataclass(frozen=True)
class OfflineReply:
    """What an offline model answers: text and/or tool calls (name, arguments), streamed with chunk_delay."""

    text: str = ""
    tool_calls: list[tuple[str, dict]] = field(default_factory=list)
    chunk_delay: float = 0.0
    chunk_size: int = 16


OfflineHandler = Callable[[list[dict], "list[dict] | None", dict], "OfflineReply | Awaitable[OfflineReply]"]

_handlers: dict[str, OfflineHandler] = {}
_lock = threading.Lock()


def register_offline_model(name: str, handler: OfflineHandler) -> None:
    """Make `offline/<name>` answer with handler(messages, tools, params); cheap, no litellm import."""
    bare = name.removeprefix(f"{PROVIDER}/")
    if not bare:
        raise ValueError("offline model name must not be empty")
    with _lock:
        _handlers[bare] = handler


def offline_model_names() -> list[str]:
    """The full model strings of every registered offline model."""
    with _lock:
        return sorted(f"{PROVIDER}/{name}" for name in _handlers)


def _handler_for(model: str) -> OfflineHandler:
    bare = model.removeprefix(f"{PROVIDER}/")
    with _lock:
        handler = _handlers.get(bare)
    if handler is None:
        known = ", ".join(offline_model_names()) or "none"
        raise LookupError(f"no offline model named {PROVIDER}/{bare} (registered: {known})")
    return handler


def _echo(messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
    """Echo the last user message; `/tool NAME {json}` calls tool NAME when it is offered."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    content = last.get("content", "") if last else ""
    text = content if isinstance(content, str) else " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    if text.startswith("/tool ") and tools:
        name, _, raw = text[6:].partition(" ")
        offered = {t.get("function", {}).get("name") for t in tools}
        if name in offered:
            try:
                arguments = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                return OfflineReply(text=f"echo: arguments for {name} are not JSON: {raw}")
            return OfflineReply(tool_calls=[(name, arguments if isinstance(arguments, dict) else {"value": arguments})])
    return OfflineReply(text=text)


register_offline_model("echo", _echo)


def _tools_from(optional_params: dict) -> list[dict] | None:
    tools = optional_params.get("tools")
    return list(tools) if tools else None


def _params_from(optional_params: dict) -> dict:
    return {k: v for k, v in optional_params.items() if k not in ("tools", "stream", "stream_options")}


def _run_sync(model: str, messages: list[dict], optional_params: dict) -> OfflineReply:
    reply = _handler_for(model)(messages, _tools_from(optional_params), _params_from(optional_params))
    if inspect.isawaitable(reply):
        raise TypeError(f"offline model {model} has an async handler; call it through the async gateway")
    return reply


async def _run_async(model: str, messages: list[dict], optional_params: dict) -> OfflineReply:
    reply = _handler_for(model)(messages, _tools_from(optional_params), _params_from(optional_params))
    if inspect.isawaitable(reply):
        reply = await reply
    return reply


def _tool_call_dicts(reply: OfflineReply) -> list[dict[str, Any]]:
    return [
        {"id": f"call_{uuid.uuid4().hex[:12]}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
        for name, args in reply.tool_calls
    ]


def _usage_dict(messages: list[dict], reply: OfflineReply, calls: list[dict[str, Any]]) -> dict[str, int]:
    prompt = count_message_tokens(messages)
    completion = count_tokens(reply.text) + sum(count_tokens(c["function"]["arguments"]) + 1 for c in calls)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _stream_chunks(model: str, messages: list[dict], reply: OfflineReply) -> Iterator[dict[str, Any]]:
    calls = _tool_call_dicts(reply)
    for piece in _pieces(reply.text, reply.chunk_size):
        yield {"text": piece, "tool_use": None, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}
    for index, call in enumerate(calls):
        tool_use = {"id": call["id"], "type": "function", "function": call["function"], "index": index}
        yield {"text": "", "tool_use": tool_use, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}
    usage = _usage_dict(messages, reply, calls)
    finish = "tool_calls" if calls else "stop"
    yield {"text": "", "tool_use": None, "is_finished": True, "finish_reason": finish, "usage": usage, "index": 0}


class _Chunk(dict):
    """A chunk shaped like litellm's stream chunks, as the gateway's assembler reads them (missing keys are None)."""

    __getattr__ = dict.get


def _as_stream_chunk(chunk: dict[str, Any]) -> _Chunk:
    tool_use = chunk["tool_use"]
    calls = None
    if tool_use is not None:
        calls = [_Chunk(index=tool_use["index"], id=tool_use["id"], function=_Chunk(tool_use["function"]))]
    delta = _Chunk(content=chunk["text"] or None, tool_calls=calls)
    usage = _Chunk(chunk["usage"]) if chunk["usage"] else None
    return _Chunk(choices=[_Chunk(delta=delta, finish_reason=chunk["finish_reason"] or None)], usage=usage)


async def reply_for(model: str, messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
    """Run the registered handler of `model` (sync or async); LookupError for a model nobody registered."""
    reply = _handler_for(model)(messages, tools, params)
    if inspect.isawaitable(reply):
        reply = await reply
    return reply


def reply_parts(messages: list[dict], reply: OfflineReply) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The reply's tool calls as OpenAI dicts and its token usage."""
    calls = _tool_call_dicts(reply)
    return calls, _usage_dict(messages, reply, calls)


async def stream_chunks(model: str, messages: list[dict], reply: OfflineReply) -> AsyncIterator[_Chunk]:
    """The reply as stream chunks, `chunk_delay` apart, without litellm."""
    for chunk in _stream_chunks(model, messages, reply):
        if reply.chunk_delay > 0 and not chunk["is_finished"]:
            await asyncio.sleep(reply.chunk_delay)
        yield _as_stream_chunk(chunk)


def build_provider() -> object:
    """Create the litellm CustomLLM that serves registered offline models (imports litellm)."""
    import litellm
    from litellm.llms.custom_llm import CustomLLMError

    def model_response(model: str, messages: list[dict], reply: OfflineReply) -> litellm.ModelResponse:
        calls = _tool_call_dicts(reply)
        message = litellm.Message(content=reply.text or None, tool_calls=calls or None, role="assistant")
        finish = "tool_calls" if calls else "stop"
        usage = _usage_dict(messages, reply, calls)
        return litellm.ModelResponse(
            model=f"{PROVIDER}/{model}",
            choices=[litellm.Choices(index=0, message=message, finish_reason=finish)],
            usage=litellm.Usage(**usage),
        )

    def provider_error(exc: Exception) -> CustomLLMError:
        status = 404 if isinstance(exc, LookupError) else 500
        return CustomLLMError(status_code=status, message=str(exc))

    class OfflineProvider(litellm.CustomLLM):
        """Serves offline models from registered Python handlers."""

        def completion(self, model: str, messages: list, *args: Any, optional_params: dict, **kwargs: Any) -> Any:
            try:
                return model_response(model, messages, _run_sync(model, messages, optional_params))
            except (LookupError, TypeError, ValueError) as exc:
                raise provider_error(exc) from exc

        async def acompletion(self, model: str, messages: list, *args: Any, optional_params: dict, **kwargs: Any) -> Any:
            try:
                return model_response(model, messages, await _run_async(model, messages, optional_params))
            except (LookupError, TypeError, ValueError) as exc:
                raise provider_error(exc) from exc

        def streaming(self, model: str, messages: list, *args: Any, optional_params: dict, **kwargs: Any) -> Iterator[Any]:
            try:
                reply = _run_sync(model, messages, optional_params)
            except (LookupError, TypeError, ValueError) as exc:
                raise provider_error(exc) from exc
            for chunk in _stream_chunks(model, messages, reply):
                if reply.chunk_delay > 0 and not chunk["is_finished"]:
                    time.sleep(reply.chunk_delay)
                yield chunk

        async def astreaming(self, model: str, messages: list, *args: Any, optional_params: dict, **kwargs: Any) -> AsyncIterator[Any]:
            try:
                reply = await _run_async(model, messages, optional_params)
            except (LookupError, TypeError, ValueError) as exc:
                raise provider_error(exc) from exc
            for chunk in _stream_chunks(model, messages, reply):
                if reply.chunk_delay > 0 and not chunk["is_finished"]:
                    await asyncio.sleep(reply.chunk_delay)
                yield chunk

    return OfflineProvider()
