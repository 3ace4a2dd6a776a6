"""Offline models through litellm's custom provider: echo, streaming, tool calls, registered handlers."""

from __future__ import annotations

import json

import pytest

from mimo_tui.llm import Gateway, ModelError, ModelSpec, OfflineReply, StreamDone, TextDelta, ToolCallDelta, register_offline_model, resolve_model

ECHO = ModelSpec(name="offline/echo", offline=True)
TOOLS = [{"type": "function", "function": {"name": "add_task", "parameters": {"type": "object", "properties": {"title": {"type": "string"}}}}}]


async def test_echo_complete(gateway: Gateway) -> None:
    completion = await gateway.complete(ECHO, [{"role": "system", "content": "be brief"}, {"role": "user", "content": "repeat me"}])

    assert completion.text == "repeat me"
    assert completion.finish_reason == "stop"
    assert completion.usage.completion_tokens == 2
    assert completion.usage.prompt_tokens > 0 and completion.usage.cost_usd == 0.0
    assert gateway.totals.calls == 1


async def test_echo_stream(gateway: Gateway) -> None:
    text = "a longer sentence that arrives in several pieces"
    events = [e async for e in gateway.stream(ECHO, [{"role": "user", "content": text}])]

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) > 1 and "".join(deltas) == text
    assert isinstance(events[-1], StreamDone) and events[-1].completion.text == text


async def test_echo_tool_call_complete_and_stream(gateway: Gateway) -> None:
    messages = [{"role": "user", "content": '/tool add_task {"title": "write tests"}'}]

    completion = await gateway.complete(ECHO, messages, TOOLS)
    events = [e async for e in gateway.stream(ECHO, messages, TOOLS)]

    assert [(c.name, json.loads(c.arguments)) for c in completion.tool_calls] == [("add_task", {"title": "write tests"})]
    assert completion.finish_reason == "tool_calls"
    assert any(isinstance(e, ToolCallDelta) and e.name == "add_task" for e in events)
    streamed = events[-1].completion
    assert [(c.name, json.loads(c.arguments)) for c in streamed.tool_calls] == [("add_task", {"title": "write tests"})]
    assert streamed.finish_reason == "tool_calls"


async def test_registered_async_handler_sees_messages_tools_and_params(gateway: Gateway) -> None:
    seen: list[tuple[list[dict], list[dict] | None, dict]] = []

    async def counter(messages: list[dict], tools: list[dict] | None, params: dict) -> OfflineReply:
        seen.append((messages, tools, params))
        return OfflineReply(text=f"{len(messages)} messages", tool_calls=[("add_task", {"title": "t"})], chunk_delay=0.001)

    register_offline_model("counter", counter)
    spec = resolve_model("offline/counter", {})
    messages = [{"role": "user", "content": "one"}, {"role": "assistant", "content": "two"}, {"role": "user", "content": "three"}]

    events = [e async for e in gateway.stream(spec, messages, TOOLS, temperature=0.5)]

    assert events[-1].completion.text == "3 messages"
    assert [c.name for c in events[-1].completion.tool_calls] == ["add_task"]
    assert seen[0][0] == messages and seen[0][1] == TOOLS and seen[0][2].get("temperature") == 0.5


async def test_unknown_offline_model_is_a_clear_error(gateway: Gateway) -> None:
    with pytest.raises(ModelError) as caught:
        await gateway.complete(ModelSpec(name="offline/nope", offline=True), [{"role": "user", "content": "hi"}])

    assert "offline/nope" in caught.value.provider_message
    assert not caught.value.retryable


OFFLINE_ONLY = """
import asyncio, json, sys
from mimo_tui.llm import Gateway, ModelSpec
from mimo_tui.llm.worker_client import ModelWorker, WorkerGateway

async def main():
    spec = ModelSpec(name="offline/echo", offline=True)
    here = await Gateway().complete(spec, [{"role": "user", "content": "here"}])
    streamed = [e async for e in Gateway().stream(spec, [{"role": "user", "content": "streamed"}])]
    worker = ModelWorker()
    try:
        remote = [e async for e in WorkerGateway(worker).stream(spec, [{"role": "user", "content": "remote"}])]
        warm = worker.is_warm
    finally:
        await worker.stop()
    print(json.dumps({"here": here.text, "streamed": streamed[-1].completion.text, "remote": remote[-1].completion.text,
                      "worker_warm": warm, "litellm": "litellm" in sys.modules}))

asyncio.run(main())
"""


def test_offline_calls_never_load_litellm_in_process_or_in_the_worker() -> None:
    """The offline default answers at once: no litellm import (seconds of CPU) anywhere for offline models."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", OFFLINE_ONLY], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts == {"here": "here", "streamed": "streamed", "remote": "remote", "worker_warm": False, "litellm": False}
