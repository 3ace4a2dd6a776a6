"""Gateway calls over real HTTP to the local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import aclosing

import pytest

from mimo_tui.llm import (
    CallRecord,
    Gateway,
    ModelError,
    ModelSpec,
    StreamDone,
    TextDelta,
    ToolCallDelta,
)
from tests.fixtures.openai_server import CutStream, ErrorReply, LocalOpenAIServer, Reply, ToolCall

HELLO = [{"role": "user", "content": "say hello"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]


async def collect(gateway: Gateway, spec: ModelSpec, messages: list[dict], tools: list[dict] | None = None) -> list:
    return [event async for event in gateway.stream(spec, messages, tools)]


async def test_json_completion(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(Reply(text="Hello there, friend.", prompt_tokens=11, completion_tokens=5))
    records: list[CallRecord] = []
    gateway.on_call = records.append

    completion = await gateway.complete(server_model, HELLO, temperature=0.2)

    assert completion.text == "Hello there, friend."
    assert completion.finish_reason == "stop"
    assert completion.tool_calls == []
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (11, 5)
    assert completion.model == "openai/test"
    assert openai_server.requests[0]["messages"] == HELLO
    assert openai_server.requests[0]["temperature"] == 0.2
    assert (gateway.totals.calls, gateway.totals.prompt_tokens, gateway.totals.completion_tokens) == (1, 11, 5)
    assert records == [CallRecord("openai/test", completion.usage, completion.latency_s, 1, False, False)]


async def test_json_tool_calls(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(Reply(tool_calls=[ToolCall("read_file", '{"path": "a.py"}', id="call_a")]))

    completion = await gateway.complete(server_model, HELLO, TOOLS)

    assert completion.finish_reason == "tool_calls"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in completion.tool_calls] == [("call_a", "read_file", {"path": "a.py"})]
    assert openai_server.requests[0]["tools"] == TOOLS


async def test_streaming_text(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    text = "Streaming works one small piece at a time."
    openai_server.queue(Reply(text=text, chunk_size=5, prompt_tokens=7, completion_tokens=9))

    events = await collect(gateway, server_model, HELLO)

    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(deltas) == len(range(0, len(text), 5))
    assert "".join(deltas) == text
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.text == text
    assert (done.completion.usage.prompt_tokens, done.completion.usage.completion_tokens) == (7, 9)
    assert openai_server.requests[0]["stream"] is True
    assert gateway.totals.calls == 1


async def test_streamed_tool_calls_are_assembled(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(
        Reply(
            text="Let me look.",
            tool_calls=[ToolCall("read_file", '{"path": "src/main.py"}', id="call_1"), ToolCall("read_file", '{"path": "b.md"}', id="call_2")],
            chunk_size=4,
        )
    )

    events = await collect(gateway, server_model, HELLO, TOOLS)

    tool_deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert len(tool_deltas) > 4
    assert {d.index for d in tool_deltas} == {0, 1}
    assert [d.name for d in tool_deltas if d.name] == ["read_file", "read_file"]
    completion = events[-1].completion
    assert completion.text == "Let me look."
    assert completion.finish_reason == "tool_calls"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in completion.tool_calls] == [
        ("call_1", "read_file", {"path": "src/main.py"}),
        ("call_2", "read_file", {"path": "b.md"}),
    ]


async def test_rate_limit_waits_for_retry_after(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(ErrorReply(429, "Rate limit reached, slow down", retry_after=0.4), Reply(text="after the wait"))

    completion = await gateway.complete(server_model, HELLO)

    assert completion.text == "after the wait"
    assert len(openai_server.requests) == 2
    gap = openai_server.request_times[1] - openai_server.request_times[0]
    assert gap >= 0.4
    assert gateway.totals.retries == 1 and gateway.totals.calls == 1


async def test_server_error_then_success(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(ErrorReply(500, "upstream exploded"), ErrorReply(503, "overloaded"), Reply(text="recovered"))

    completion = await gateway.complete(server_model, HELLO)

    assert completion.text == "recovered"
    assert len(openai_server.requests) == 3
    assert gateway.totals.retries == 2


async def test_persistent_failure_gives_provider_message(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(*[ErrorReply(500, "the GPU caught fire")] * 4)

    with pytest.raises(ModelError) as caught:
        await gateway.complete(server_model, HELLO)

    assert caught.value.provider_message == "the GPU caught fire"
    assert caught.value.status == 500 and caught.value.retryable
    assert len(openai_server.requests) == gateway.max_retries + 1
    assert gateway.totals.errors == 1 and gateway.totals.calls == 0


async def test_client_error_is_not_retried(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(ErrorReply(400, "messages[0].content is too long"))

    with pytest.raises(ModelError) as caught:
        await gateway.complete(server_model, HELLO)

    assert caught.value.provider_message == "messages[0].content is too long"
    assert "messages[0].content is too long" in str(caught.value)
    assert not caught.value.retryable
    assert len(openai_server.requests) == 1


async def test_cut_json_reply_is_retried(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(CutStream(text="never arrives whole"), Reply(text="whole"))

    completion = await gateway.complete(server_model, HELLO)

    assert completion.text == "whole"
    assert len(openai_server.requests) == 2


async def test_stream_cut_before_text_is_retried(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(CutStream(text=""), Reply(text="second try streams fine"))

    events = await collect(gateway, server_model, HELLO)

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "second try streams fine"
    assert events[-1].completion.text == "second try streams fine"
    assert len(openai_server.requests) == 2


async def test_stream_cut_after_text_keeps_partial(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(CutStream(text="The answer begins and then"), Reply(text="must not be requested"))
    seen: list[str] = []

    with pytest.raises(ModelError) as caught:
        async for event in gateway.stream(server_model, HELLO):
            if isinstance(event, TextDelta):
                seen.append(event.text)

    assert "".join(seen) == "The answer begins and then"
    assert caught.value.partial_text == "The answer begins and then"
    assert str(caught.value).startswith("stream cut")
    assert caught.value.retryable
    assert len(openai_server.requests) == 1


async def test_concurrency_limit_is_shared(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(max_concurrency=2, backoff_base_s=0.01)
    openai_server.latency = 0.15
    openai_server.responder = lambda body: Reply(text=body["messages"][0]["content"])

    started = time.perf_counter()
    replies = await asyncio.gather(
        *[gateway.complete(server_model, [{"role": "user", "content": f"q{i}"}]) for i in range(4)],
        *[collect(gateway, server_model, [{"role": "user", "content": f"s{i}"}]) for i in range(2)],
    )
    elapsed = time.perf_counter() - started

    assert [r.text for r in replies[:4]] == ["q0", "q1", "q2", "q3"]
    assert [r[-1].completion.text for r in replies[4:]] == ["s0", "s1"]
    assert openai_server.max_in_flight == 2
    assert elapsed >= 3 * 0.15
    assert gateway.totals.calls == 6


async def test_warm_up_is_idempotent_and_concurrent(litellm_loaded: None) -> None:
    gateway = Gateway()
    await asyncio.gather(gateway.warm_up(), gateway.warm_up(), gateway.warm_up())
    assert gateway.is_ready


async def test_slow_reply_times_out_and_is_retried(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(timeout_s=0.3, backoff_base_s=0.01)
    openai_server.queue(Reply(text="too late", delay=0.8), Reply(text="in time"))

    completion = await gateway.complete(server_model, HELLO)

    assert completion.text == "in time"
    assert len(openai_server.requests) == 2
    assert gateway.totals.retries == 1


async def test_known_model_cost_is_counted(gateway: Gateway, openai_server: LocalOpenAIServer) -> None:
    spec = ModelSpec(name="openai/gpt-4o-mini", api_base=openai_server.base_url, api_key="sk-test")
    openai_server.queue(Reply(text="priced", prompt_tokens=1_000_000, completion_tokens=0))

    completion = await gateway.complete(spec, HELLO)

    assert completion.usage.cost_usd > 0
    assert gateway.totals.cost_usd == completion.usage.cost_usd


async def test_stream_rate_limited_before_start_is_retried(gateway: Gateway, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(ErrorReply(429, "busy", retry_after=0.1), Reply(text="streamed after wait"))

    events = await collect(gateway, server_model, HELLO)

    assert events[-1].completion.text == "streamed after wait"
    assert openai_server.request_times[1] - openai_server.request_times[0] >= 0.1


async def test_abandoned_stream_frees_its_slot(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(max_concurrency=1)
    openai_server.queue(Reply(text="a long answer the reader stops early", chunk_size=3), Reply(text="next"))

    async with aclosing(gateway.stream(server_model, HELLO)) as events:
        async for event in events:
            break

    completion = await asyncio.wait_for(gateway.complete(server_model, HELLO), 5)
    assert completion.text == "next"


async def test_stream_timeout_is_per_chunk_not_per_answer(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(timeout_s=0.4, max_retries=0)
    openai_server.queue(Reply(text="slow but steady answer", chunk_size=3, chunk_delay=0.1))

    events = await collect(gateway, server_model, HELLO)

    assert events[-1].completion.text == "slow but steady answer"  # about 0.8 s in all, twice the timeout


async def test_a_slow_reader_is_not_timed_out(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(timeout_s=0.3, max_retries=0)
    openai_server.queue(Reply(text="read me slowly", chunk_size=5))
    seen = []
    async for event in gateway.stream(server_model, HELLO):
        seen.append(event)
        if isinstance(event, TextDelta) and len(seen) == 1:
            await asyncio.sleep(0.6)  # the caller is busy, not the provider

    assert seen[-1].completion.text == "read me slowly"


async def test_a_stream_that_goes_silent_after_it_started_times_out(litellm_loaded: None, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(timeout_s=0.3, max_retries=0)
    # Headers and a first chunk, then a second's pause before each of the next ones: 3 s in all.
    openai_server.queue(Reply(text="never in time", chunk_size=6, chunk_delay=1.0))

    started = time.perf_counter()
    with pytest.raises(ModelError) as caught:
        async for _event in gateway.stream(server_model, HELLO):
            pass

    assert time.perf_counter() - started < 2.5  # it gave up before the server was done
    # Ours ("no data within 0.3 s") or the HTTP client's read timeout, whichever fires first: both retryable.
    assert caught.value.retryable
