"""The worker gateway: the same typed events as Gateway, across the process boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mimo_tui.llm import CallRecord, ModelError, ModelSpec, StreamDone, TextDelta, ToolCallDelta
from mimo_tui.llm.worker_client import ModelWorker, WorkerGateway
from tests.fixtures.openai_server import CutStream, ErrorReply, LocalOpenAIServer, Reply, ToolCall

HELLO = [{"role": "user", "content": "say hello"}]
TOOLS = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]


@pytest.fixture
async def worker() -> AsyncIterator[ModelWorker]:
    model_worker = ModelWorker()
    try:
        yield model_worker
    finally:
        await model_worker.stop()


async def test_stream_tool_calls_usage_and_coalesced_text(worker: ModelWorker, server_model: ModelSpec,
                                                          openai_server: LocalOpenAIServer) -> None:
    records: list[CallRecord] = []
    gateway = WorkerGateway(worker, max_retries=0, timeout_s=20, on_call=records.append)
    text = "".join(f"{i:04d}" for i in range(5000))  # distinct chunks: litellm refuses a repeating one
    openai_server.queue(Reply(text=text, chunk_size=4), Reply(text="Reading.", tool_calls=[ToolCall("read_file", '{"path": "a.py"}')]))
    events = [event async for event in gateway.stream(server_model, HELLO)]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == text
    # 5,000 provider chunks cross the pipe as a few dozen frames, not one each.
    assert len(deltas) < 500
    done = events[-1]
    assert isinstance(done, StreamDone) and done.completion.text == text and done.completion.usage.completion_tokens > 0
    events = [event async for event in gateway.stream(server_model, HELLO, TOOLS)]
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert calls and calls[0].name == "read_file"
    assert events[-1].completion.tool_calls[0].arguments == '{"path": "a.py"}'
    assert gateway.totals.calls == 2 and len(records) == 2 and records[0].streamed
    completion = await gateway.complete(ModelSpec("offline/echo", offline=True), HELLO)
    assert completion.text == "say hello" and gateway.totals.calls == 3


async def test_errors_keep_their_retry_state_and_partial_text(worker: ModelWorker, server_model: ModelSpec,
                                                               openai_server: LocalOpenAIServer) -> None:
    gateway = WorkerGateway(worker, max_retries=0, timeout_s=20)
    openai_server.queue(ErrorReply(429, "Rate limit reached", retry_after=7), ErrorReply(400, "bad request: no such tool"),
                        CutStream("half an answer"))
    with pytest.raises(ModelError) as limited:
        [event async for event in gateway.stream(server_model, HELLO)]
    assert limited.value.retryable and limited.value.status == 429 and limited.value.retry_after == pytest.approx(7, abs=1)
    with pytest.raises(ModelError) as refused:
        await gateway.complete(server_model, HELLO)
    assert not refused.value.retryable and refused.value.status == 400 and "no such tool" in refused.value.provider_message
    seen: list[str] = []
    with pytest.raises(ModelError) as cut:
        async for event in gateway.stream(server_model, HELLO):
            seen.append(event.text)
    assert cut.value.partial_text == "half an answer" == "".join(seen)
    assert gateway.totals.errors == 3


async def test_an_offline_handler_defined_in_a_function_is_refused_clearly(worker: ModelWorker) -> None:
    from mimo_tui.llm import OfflineReply, register_offline_model

    register_offline_model("local-closure", lambda messages, tools, params: OfflineReply(text="hi"))
    with pytest.raises(ModelError, match="defined inside a function"):
        await WorkerGateway(worker).complete(ModelSpec("offline/local-closure", offline=True), HELLO)
