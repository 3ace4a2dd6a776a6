"""Response cache: hits skip HTTP, sample_index separates samples, files are written atomically."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.llm import Completion, Gateway, ModelSpec, ResponseCache, ToolCallRequest, Usage
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

QUESTION = [{"role": "user", "content": "what is 2+2?"}]


async def test_cache_hit_makes_no_request(litellm_loaded: None, tmp_path: Path, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    gateway = Gateway(cache=ResponseCache(tmp_path / "cache"))
    openai_server.queue(Reply(text="4", tool_calls=[ToolCall("note", '{"x": 1}', id="c1")]), Reply(text="four"), Reply(text="IV"))

    first = await gateway.complete(server_model, QUESTION, use_cache=True, temperature=1.0)
    again = await gateway.complete(server_model, QUESTION, use_cache=True, temperature=1.0)

    assert len(openai_server.requests) == 1
    assert (again.text, again.tool_calls, again.usage) == (first.text, first.tool_calls, first.usage)
    assert (gateway.totals.calls, gateway.totals.cache_hits) == (1, 1)

    other_sample = await gateway.complete(server_model, QUESTION, sample_index=1, use_cache=True, temperature=1.0)
    uncached = await gateway.complete(server_model, QUESTION, temperature=1.0)

    assert (other_sample.text, uncached.text) == ("four", "IV")
    assert len(openai_server.requests) == 3
    assert (gateway.totals.calls, gateway.totals.cache_hits) == (3, 1)


async def test_cache_survives_a_new_gateway(litellm_loaded: None, tmp_path: Path, server_model: ModelSpec, openai_server: LocalOpenAIServer) -> None:
    openai_server.queue(Reply(text="persisted"))
    await Gateway(cache=ResponseCache(tmp_path)).complete(server_model, QUESTION, use_cache=True)

    later = Gateway(cache=ResponseCache(tmp_path))
    hit = await later.complete(server_model, QUESTION, use_cache=True)

    assert hit.text == "persisted"
    assert len(openai_server.requests) == 1
    assert later.totals.calls == 0 and later.totals.cache_hits == 1


def test_key_depends_on_every_part() -> None:
    base = ("openai/a", QUESTION, None, {"temperature": 0}, 0)
    keys = {
        ResponseCache.key(*base),
        ResponseCache.key("openai/b", *base[1:]),
        ResponseCache.key(base[0], [{"role": "user", "content": "other"}], *base[2:]),
        ResponseCache.key(base[0], base[1], [{"type": "function", "function": {"name": "t"}}], *base[3:]),
        ResponseCache.key(*base[:3], {"temperature": 1}, 0),
        ResponseCache.key(*base[:4], 1),
    }
    assert len(keys) == 6
    assert ResponseCache.key(*base) == ResponseCache.key("openai/a", list(QUESTION), None, {"temperature": 0}, 0)


def test_put_get_roundtrip_and_torn_file_is_a_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    completion = Completion("hi", [ToolCallRequest("c", "tool", "{}")], Usage(3, 1, 0.5), "openai/x", "stop", 0.2)
    key = ResponseCache.key("openai/x", QUESTION, None, {}, 0)

    cache.put(key, completion)

    assert cache.get(key) == completion
    stored = list(tmp_path.rglob("*.json"))
    assert len(stored) == 1 and not list(tmp_path.rglob(".tmp-*"))
    stored[0].write_text('{"text": "half', encoding="utf-8")
    assert cache.get(key) is None
    assert cache.get("0" * 64) is None
