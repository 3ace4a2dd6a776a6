"""The worker's lean path for OpenAI-compatible endpoints gives the same results as litellm, and needs no litellm to start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mimo_tui.llm import Gateway, ModelError, ModelSpec, StreamDone, TextDelta, ToolCallDelta
from mimo_tui.llm.lean_openai import LeanGateway
from tests.fixtures.openai_server import CutStream, ErrorReply, LocalOpenAIServer, Reply, ToolCall

ROOT = Path(__file__).resolve().parent.parent
HELLO = [{"role": "user", "content": "say hello"}]
TOOLS = [{"type": "function", "function": {"name": "read_file", "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}]
REPLIES = [
    Reply(text="".join(f"w{i:03d} " for i in range(300)), chunk_size=4),
    Reply(text="Reading two files.", tool_calls=[ToolCall("read_file", '{"path": "a.py"}', id="call_a"),
                                                 ToolCall("read_file", '{"path": "b.py"}', id="call_b")], chunk_size=3),
    Reply(text="no usage sent", prompt_tokens=0, completion_tokens=0),
]


async def outcome(gateway: Gateway, spec: ModelSpec, tools: list[dict] | None) -> dict:
    events = []
    try:
        events = [event async for event in gateway.stream(spec, HELLO, tools, temperature=0)]
    except ModelError as err:
        return {"error": (err.status, err.retryable, round(err.retry_after or 0), err.provider_message, err.partial_text)}
    done = events[-1]
    assert isinstance(done, StreamDone)
    completion = done.completion
    return {
        "text": "".join(e.text for e in events if isinstance(e, TextDelta)),
        "calls": [(e.index, e.id, e.name, e.arguments_delta) for e in events if isinstance(e, ToolCallDelta)],
        "completion": (completion.text, completion.tool_calls, completion.usage, completion.finish_reason, completion.model),
    }


@pytest.mark.parametrize("reply", [*REPLIES, ErrorReply(429, "Rate limit reached", retry_after=3),
                                   ErrorReply(400, "Invalid 'messages': bad"), CutStream("half an answer", chunk_size=5)],
                         ids=["text", "tool-calls", "no-usage", "429", "400", "cut"])
async def test_lean_path_matches_litellm(reply, openai_server: LocalOpenAIServer, server_model: ModelSpec) -> None:
    results = []
    for gateway in (Gateway(max_retries=0, timeout_s=10), LeanGateway(max_retries=0, timeout_s=10)):
        openai_server.queue(reply)
        results.append(await outcome(gateway, server_model, TOOLS))
    if isinstance(reply, CutStream):
        # The transports word a dropped connection differently (aiohttp under litellm says 500); what counts is the same.
        (_, litellm_retry, _, _, litellm_partial), (_, lean_retry, _, lean_message, lean_partial) = results[0]["error"], results[1]["error"]
        assert (lean_retry, lean_partial) == (litellm_retry, litellm_partial) == (True, "half an answer") and lean_message
    else:
        assert results[1] == results[0]


async def complete_outcome(gateway: Gateway, spec: ModelSpec, tools: list[dict] | None) -> dict:
    try:
        completion = await gateway.complete(spec, HELLO, tools, temperature=0)
    except ModelError as err:
        return {"error": (err.status, err.retryable, round(err.retry_after or 0), err.provider_message)}
    return {"completion": (completion.text, completion.tool_calls, completion.usage, completion.finish_reason,
                           completion.model)}


@pytest.mark.parametrize("reply", [*REPLIES, ErrorReply(429, "Rate limit reached", retry_after=3),
                                   ErrorReply(400, "Invalid 'messages': bad")],
                         ids=["text", "tool-calls", "no-usage", "429", "400"])
async def test_a_whole_reply_on_the_lean_path_matches_litellm(reply, openai_server: LocalOpenAIServer,
                                                                 server_model: ModelSpec) -> None:
    """The checkpoint writer's and a judge's calls (not streamed) read the same stream: the same completion."""
    results = []
    for gateway in (Gateway(max_retries=0, timeout_s=10), LeanGateway(max_retries=0, timeout_s=10)):
        openai_server.queue(reply)
        results.append(await complete_outcome(gateway, server_model, TOOLS))
    assert results[1] == results[0]
    assert openai_server.requests[-1]["stream"] is True and not openai_server.requests[-2].get("stream")


async def test_lean_path_retries_like_the_gateway(openai_server: LocalOpenAIServer, server_model: ModelSpec) -> None:
    openai_server.queue(ErrorReply(503, "overloaded"), ErrorReply(429, "slow down", retry_after=0.01), Reply(text="fine"))
    gateway = LeanGateway(max_retries=3, timeout_s=10, backoff_base_s=0.01, backoff_max_s=0.02)
    events = [event async for event in gateway.stream(server_model, HELLO)]
    assert events[-1].completion.text == "fine" and gateway.totals.retries == 2


PROBE = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from mimo_tui.llm import ModelSpec, TextDelta, runtime
from mimo_tui.llm.lean_openai import LeanGateway
from tests.fixtures.openai_server import LocalOpenAIServer, Reply

async def main():
    server = LocalOpenAIServer().start()
    server.queue(Reply(text="first words, then more"))
    spec = ModelSpec(sys.argv[2], api_base=server.base_url, api_key="sk-test")
    seen = []
    async for event in LeanGateway().stream(spec, [{"role": "user", "content": "hi"}]):
        if isinstance(event, TextDelta) and not seen:
            seen.append(runtime.is_loaded() or "litellm" in sys.modules)
    server.queue(Reply(text="a whole reply"))
    whole = await LeanGateway().complete(spec, [{"role": "user", "content": "hi"}])
    print("litellm loaded at first words:", seen[0], "| at the end:", runtime.is_loaded(), "|", whole.text)
    server.stop()

asyncio.run(main())
"""


@pytest.mark.parametrize(("model", "loaded_at_end"), [("openai/gpt-4o", True), ("openai/test", False)])
def test_lean_path_answers_before_litellm_is_imported(model: str, loaded_at_end: bool) -> None:
    """The words come first; a call ends once litellm is imported for the price, unless its table has no price for
    the model (a local server's name): then the cost is 0 either way and no call, streamed or whole, waits for it."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT), model], capture_output=True, text=True, timeout=120)
    expected = f"litellm loaded at first words: False | at the end: {loaded_at_end} | a whole reply"
    assert expected in done.stdout, done.stdout + done.stderr[-2000:]


def test_only_models_litellm_must_serve_or_price_need_it() -> None:
    from mimo_tui.llm.lean_openai import any_needs_litellm

    local = {"api_base": "http://127.0.0.1:8000/v1"}
    config = {"local": {"model": "openai/test", **local}, "priced": {"model": "openai/gpt-4o-mini", **local}}
    assert not any_needs_litellm(["offline/agent", "", "local"], config)
    assert any_needs_litellm(["offline/agent", "priced"], config)  # its cost comes from litellm's table
    assert any_needs_litellm(["anthropic/claude-3-5-haiku-20241022"], config)
    assert any_needs_litellm(["openai/test"], config)  # no api_base: OpenAI's own API, through litellm


async def test_a_workbench_on_a_local_servers_model_never_loads_litellm(agent_project, openai_server,
                                                                       make_chat_app) -> None:
    """Nothing in a session on a local server's model waits for litellm (2-3 s of CPU, seconds more on a busy
    machine): the model worker is not asked to load it at start, and the answer ends without it."""
    from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
    from tests.test_ui_chat_pilot import use_server

    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="hello from the local server"))
    app = make_chat_app()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "hi")
        await wait_idle(pilot)
        await wait_until(pilot, lambda: not any(w.group == "gateway-warm-up" and w.is_running for w in app.workers),
                         what="the start-up's warm-up decision")
        assert "hello from the local server" in "".join(m.source for m in app.query("AssistantMessage"))
        assert not pane.services.gateway.worker.is_warm
