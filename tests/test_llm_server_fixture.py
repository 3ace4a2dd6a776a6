"""The local OpenAI-compatible server itself: model listing, SSE format and usage."""

from __future__ import annotations

import json
import urllib.request

from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def post(server: LocalOpenAIServer, body: dict) -> bytes:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read()


def test_models_listing(openai_server: LocalOpenAIServer) -> None:
    with urllib.request.urlopen(f"{openai_server.base_url}/models", timeout=5) as response:
        listing = json.loads(response.read())
    assert [m["id"] for m in listing["data"]] == ["test"]


def test_sse_stream_ends_with_usage_and_done(openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(Reply(text="abc", tool_calls=[ToolCall("t", '{"k": 2}', id="c9")], chunk_size=1))

    raw = post(openai_server, {"model": "test", "messages": [{"role": "user", "content": "one two"}], "stream": True})

    events = [line[6:] for line in raw.decode().split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == "abc"
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 3
    assert openai_server.requests[0]["stream"] is True


def test_default_responder_and_context_manager() -> None:
    with LocalOpenAIServer() as server:
        reply = json.loads(post(server, {"model": "test", "messages": []}))
        server.responder = lambda body: Reply(text=f"{len(body['messages'])} messages")
        custom = json.loads(post(server, {"model": "test", "messages": [{"role": "user", "content": "x"}]}))
    assert reply["choices"][0]["message"]["content"] == "ok"
    assert custom["choices"][0]["message"]["content"] == "1 messages"
