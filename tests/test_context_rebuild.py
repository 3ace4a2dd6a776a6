"""Context rebuild: memory in REFERENCE's order, the user's own words verbatim, a verbatim tail, no loop, across sessions."""

from __future__ import annotations

from mimo_tui.agent import events as ev
from mimo_tui.agent.context_keeper import ANSWER_LINE, FINISHED_LINE, cleared_outputs, tail_bounds, tail_floor, tail_start
from mimo_tui.memory.context import RESUME_LINE
from mimo_tui.memory.tokens import count_tokens
from mimo_tui.sessions import StoredMessage
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.fixtures.scripted_long_session import LongSessionModel, kind_of

CONFIG = '[model]\ncontext_window = {window}\n\n[llm]\nmax_retries = 1\n'


def use_server(project: AgentProject, server: LocalOpenAIServer, window: int = 32000) -> None:
    project.write_config(CONFIG.format(window=window)
                         + f'\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n')


def message(id: int, role: str, tokens: int, **extra: object) -> StoredMessage:
    return StoredMessage(id, "s", id, role, "word " * tokens, **extra)  # type: ignore[arg-type]


def test_the_tail_keeps_whole_tool_units_at_least_five_text_messages_and_10k_to_20k_tokens() -> None:
    messages = []
    for i in range(0, 60, 4):
        messages += [message(i + 1, "user", 300), message(i + 2, "assistant", 200, tool_calls=[{"id": f"c{i}"}]),
                     message(i + 3, "tool", 2500, tool_call_id=f"c{i}"), message(i + 4, "assistant", 400)]
    cache: dict = {}
    start = tail_start(messages, 20_000, cache)
    tail = messages[start:]
    assert tail[0].role != "tool"  # never a result without its call
    tokens = sum(len(m.content.split()) + 4 for m in tail)
    assert 10_000 <= tokens <= 20_000
    assert sum(m.role in ("user", "assistant") and bool(m.content.strip()) for m in tail) >= 5
    # Few but huge messages: five text messages win over the 10K floor, the 20K ceiling still holds.
    big = [message(i, "user" if i % 2 else "assistant", 6000) for i in range(1, 11)]
    assert len(big[tail_start(big, 20_000, cache):]) == 3
    small = [message(i, "user" if i % 2 else "assistant", 50) for i in range(1, 40)]
    assert len(small[tail_start(small, 20_000, cache):]) == 39  # all of it is under 10K


def test_the_tail_is_10k_to_20k_on_large_windows_and_a_fifth_of_the_usable_window_on_small_ones() -> None:
    from mimo_tui.agent.context_limits import limits_for

    small = limits_for("openai/test", 32_000)
    assert tail_floor(small) == small.usable // 5 == 5_580
    # A rebuilt 32K context (tail at its floor, memory at its scaled caps) keeps less than the room it leaves.
    assert tail_floor(small) + 2_000 + 500 < small.top // 2
    for window in (128_000, 400_000, 1_000_000):
        limits = limits_for("openai/test", window)
        assert tail_bounds(limits, memory=20_000, fixed=500) == (10_000, 20_000), window
    # Memory near its caps on a mid-size window: the tail yields so the rebuilt context stays under the top threshold.
    mid = limits_for("openai/test", 64_000)
    floor, ceiling = tail_bounds(mid, memory=40_000, fixed=500)
    assert ceiling == int(mid.top * 0.9) - 40_500 and floor == min(10_000, ceiling)


def test_old_bulky_tool_outputs_are_cleared_and_the_newest_kept() -> None:
    tail = [message(i, "tool", 1000, tool_call_id=f"c{i}", tool_name="bash") for i in range(1, 6)]
    cleared = cleared_outputs(tail)
    assert [m.content.startswith("[output of bash cleared") for m in cleared] == [True, True, False, False, False]
    assert cleared[0].tool_call_id == "c1"


def request_tokens(body: dict) -> int:
    return sum(count_tokens(m.get("content") or "") + 4 for m in body["messages"])


def request_sizes(model: LongSessionModel) -> list[int]:
    return [request_tokens(b) for b in model.turn_bodies]


async def run_turns(agent, count: int, start: int = 1, facts: dict[int, str] | None = None) -> None:
    for k in range(start, start + count):
        text = f"TURN-{k}: go on with step {k}"
        if facts and k in facts:
            text += f". {facts[k]}"
        assert await agent.run_turn(text) == ev.TURN_DONE
        await agent.keeper.finish(30)


async def test_a_full_context_is_rebuilt_from_the_checkpoint_with_the_users_own_words(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=1500)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    tasks = agent_project.services.tasks
    tasks.start(agent.session_id, tasks.create(agent.session_id, "port the parser").id)
    await run_turns(agent, 9, facts={2: "FACT-2: never touch vendor/"})
    rebuilt = events.of(ev.ContextRebuilt)
    assert rebuilt and rebuilt[0].from_checkpoint and rebuilt[0].tokens_after < rebuilt[0].tokens_before
    assert rebuilt[0].injected.startswith('<memory block="task_ledger">')
    body = model.turn_bodies[-1]
    memory = body["messages"][1]["content"]
    order = ['block="task_ledger"', 'block="focus_task"', 'block="checkpoint"', 'block="project_memory"',
             'block="recent_user_messages"']
    positions = [memory.index(name) for name in order]
    assert positions == sorted(positions)
    assert "> TURN-2: go on with step 2. FACT-2: never touch vendor/" in memory  # verbatim, though cut from the tail
    assert "port the parser" in memory.split('block="focus_task"')[1].split("</memory>")[0]
    tail = body["messages"][2:]
    assert tail[-1]["content"].startswith("TURN-9:")
    assert sum(m["role"] in ("user", "assistant") for m in tail) >= 5
    assert not any(m["content"].startswith("TURN-1:") for m in tail)
    # Everything after the rebuild went through the same rebuilt context, not the whole transcript.
    assert all(len(b["messages"]) < 2 + 18 for b in model.turn_bodies)


async def test_no_rebuild_loop_after_finished_work(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=1500)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    tasks = agent_project.services.tasks
    tasks.create(agent.session_id, "stale: write the release notes")  # open, never finished
    await run_turns(agent, 8)
    assert events.of(ev.ContextRebuilt)
    memory = model.turn_bodies[-1]["messages"][1]["content"]
    assert RESUME_LINE not in memory and FINISHED_LINE in memory
    model.answer_words = 5  # the work is done: short answers from now on
    await run_turns(agent, 1, start=9)  # may rebuild once more: it still carries turn 8's long answer
    settled = len(events.of(ev.ContextRebuilt))
    await run_turns(agent, 4, start=10)
    assert len(events.of(ev.ContextRebuilt)) == settled
    for body in model.turn_bodies[-4:]:
        assert "Resume directly" not in body["messages"][1]["content"]


async def test_a_rebuild_without_tasks_says_answer_the_user_and_nothing_about_tasks(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=1500)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 8)
    assert events.of(ev.ContextRebuilt)
    memory = model.turn_bodies[-1]["messages"][1]["content"]
    assert ANSWER_LINE in memory and "Tasks listed above" not in memory and RESUME_LINE not in memory


async def test_a_rebuild_that_waits_for_the_writer_says_so_first(agent_project: AgentProject,
                                                                  openai_server: LocalOpenAIServer) -> None:
    # A rebuild waits (up to 60 s) for a running checkpoint writer; the request looked stuck meanwhile.
    from tests.fixtures.openai_server import Reply
    from tests.fixtures.scripted_long_session import checkpoint_reply

    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=1500)
    openai_server.responder = lambda body: (Reply(text=checkpoint_reply(body), delay=0.4) if kind_of(body) == "writer"
                                            else model(body))
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 4)
    assert not events.of(ev.RebuildWaiting)  # nothing was waited for so far
    assert agent.keeper.request_checkpoint() == "started"
    agent.keeper.request_compact()
    await run_turns(agent, 1, start=5)
    kinds = [type(e) for e in events.events]
    waiting = kinds.index(ev.RebuildWaiting)
    assert waiting < kinds.index(ev.ContextRebuilt, waiting) and events.of(ev.RebuildWaiting)[0].timeout_s == 60


async def test_without_a_checkpoint_a_summary_stands_in(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server, window=16000)  # under 25K usable: no thresholds, no writer
    model = LongSessionModel(answer_words=1500)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 6, facts={1: "FACT-1: the API key lives in vault path kv/mimo"})
    rebuilt = events.of(ev.ContextRebuilt)
    assert rebuilt and not rebuilt[0].from_checkpoint
    assert model.counts["summary"] >= 1 and model.counts["writer"] == 0
    memory = model.turn_bodies[-1]["messages"][1]["content"]
    assert 'block="conversation_summary"' in memory and "FACT-1: the API key lives in vault path kv/mimo" in memory


async def test_compact_on_demand_and_a_resumed_session_keeps_the_rebuilt_context(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server, window=128000)
    model = LongSessionModel(answer_words=3000)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 6)
    assert not events.of(ev.ContextRebuilt)
    agent.keeper.request_checkpoint()
    await agent.keeper.finish(30)
    agent.keeper.request_compact()
    await run_turns(agent, 1, start=7)
    (rebuilt,) = events.of(ev.ContextRebuilt)
    assert rebuilt.reason == "on demand" and rebuilt.from_checkpoint
    sent = len(model.turn_bodies[-1]["messages"])
    # `mimo -c`: the next process resumes the session and sends the same rebuilt context, not all 14 messages.
    again = agent_project.open(RecordedEvents(), resume="last")
    assert again.session_id == agent.session_id
    await run_turns(again, 1, start=8)
    assert len(model.turn_bodies[-1]["messages"]) == sent + 2
    assert not any(m["content"].startswith("TURN-1:") for m in model.turn_bodies[-1]["messages"][2:])


async def test_a_new_session_starts_with_project_memory_and_the_last_checkpoint(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=20)
    openai_server.responder = model
    agent = agent_project.open(RecordedEvents())
    await run_turns(agent, 1, facts={1: "FACT-1: deploys go through make ship"})
    agent.keeper.request_checkpoint()
    await agent.keeper.finish(30)
    fresh = agent_project.open(RecordedEvents())
    assert fresh.session_id != agent.session_id
    await run_turns(fresh, 1, start=2)
    memory = model.turn_bodies[-1]["messages"][1]["content"]
    assert f"From the last checkpoint of session {agent.session_id}" in memory
    assert "## §7 Discovered knowledge" in memory and "## §4 Task tree" not in memory
    project_block = memory.split('block="project_memory"')[1].split("</memory>")[0]
    # The fact is in MEMORY.md and in the last checkpoint: the memory block says it once, in the checkpoint.
    checkpoint_block = memory.split('block="checkpoint"')[1].split("</memory>")[0]
    assert "FACT-1: deploys go through make ship" in checkpoint_block
    assert "FACT-1: deploys go through make ship" not in project_block
    assert "(1 entry also in the session checkpoint above, not repeated)" in project_block


async def test_a_fact_planted_in_turn_3_is_reachable_at_turn_300(agent_project: AgentProject,
                                                                openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=220)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 300, facts={3: "FACT-3: the staging database listens on port 48213"})
    assert len(events.of(ev.ContextRebuilt)) >= 5
    last = model.turn_bodies[-1]
    assert last["messages"][-1]["content"].startswith("TURN-300:")
    in_context = any("port 48213" in (m.get("content") or "") for m in last["messages"])
    found = agent_project.services.memory.search("48213")
    assert in_context or found
    assert in_context  # the checkpoint carried it forward, so it is in the context itself
    usable_chars = (32000 - 4096) * 4
    sizes = [sum(len(m.get("content") or "") for m in b["messages"]) for b in openai_server.requests if kind_of(b) == "turn"]
    assert max(sizes) < usable_chars
    # Each rebuilt context leaves at least as much room to work as it keeps: it lands under half the top threshold
    # (it used to start at ~12.2K of 16.7K, mostly 3.5K of short user messages, and rebuilt every ~14 steps; then
    # at 9.1K, with a tail floor of a quarter of the usable window), with the verbatim tail still at its floor.
    limits, floor = agent.keeper.limits, tail_floor(agent.keeper.limits)
    assert floor == (32000 - 4096) // 5
    rebuilt = [tokens for tokens, before in zip(request_sizes(model), [0, *request_sizes(model)]) if tokens < before]
    assert rebuilt and max(rebuilt) <= limits.top // 2, (rebuilt, limits.top)
    firsts = [b for b, before in zip(model.turn_bodies, [0, *request_sizes(model)]) if request_tokens(b) < before]
    assert min(request_tokens({"messages": b["messages"][2:]}) for b in firsts) >= floor


async def test_a_provider_overflow_error_rebuilds_and_sends_again(agent_project: AgentProject,
                                                                 openai_server: LocalOpenAIServer) -> None:
    from tests.fixtures.openai_server import ErrorReply

    use_server(agent_project, openai_server, window=128000)  # the config thinks the window is large; it is not
    model = LongSessionModel(answer_words=3000)
    refused = {"count": 0}

    def respond(body: dict):
        if kind_of(body) == "turn" and len(body["messages"]) > 10 and refused["count"] == 0:
            refused["count"] += 1
            return ErrorReply(400, "This model's maximum context length is 16385 tokens. However, your messages "
                                   "resulted in 25000 tokens.")
        return model(body)

    openai_server.responder = respond
    events = RecordedEvents()
    agent = agent_project.open(events)
    await run_turns(agent, 5)
    agent.keeper.request_checkpoint()
    await agent.keeper.finish(30)
    await run_turns(agent, 1, start=6)
    assert refused["count"] == 1 and not events.of(ev.ModelFailed)
    (rebuilt,) = events.of(ev.ContextRebuilt)
    assert rebuilt.reason == "the provider said the context is too long"
    assert len(model.turn_bodies[-1]["messages"]) < 12


async def test_the_users_words_in_the_tail_count_toward_the_recent_messages_cap(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # Issue 16 (bench/long_session.py): beside a tail that carries the user's newest messages verbatim, the rebuilt
    # context also filled the recent-messages block to its whole cap with older ones.
    from mimo_tui.memory.context import DEFAULT_CAPS, scaled_caps
    from tests.fixtures.scripted_long_session import filler

    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=600)
    openai_server.responder = model
    events = RecordedEvents()
    agent = agent_project.open(events)
    for k in range(1, 16):
        assert await agent.run_turn(f"TURN-{k}: {filler(70, k)}") == ev.TURN_DONE
        await agent.keeper.finish(30)
    assert events.of(ev.ContextRebuilt)
    sizes = request_sizes(model)
    last_rebuild = max(i for i in range(1, len(sizes)) if sizes[i] < sizes[i - 1])

    def recent_block(body: dict) -> str:
        return body["messages"][1]["content"].split('<memory block="recent_user_messages">')[1].split("</memory>")[0]

    rebuilt = model.turn_bodies[last_rebuild]
    block = recent_block(rebuilt)
    tail_users = [m["content"] for m in rebuilt["messages"][2:] if m["role"] == "user"]
    assert tail_users and not any(text in block for text in tail_users)  # not said twice
    keeper = agent.keeper
    cap = scaled_caps(DEFAULT_CAPS, keeper.limits.top - tail_floor(keeper.limits))["recent_user_messages"]
    in_tail = sum(count_tokens(text) + 3 for text in tail_users)
    assert count_tokens(block) + in_tail <= cap, (count_tokens(block), in_tail, cap)
    assert "> TURN-" in block  # older messages still fill what the tail leaves of the cap
    # Later turns add user messages to the tail; the block stays as it was rebuilt (a provider's prompt cache of what
    # follows it holds) until the next rebuild.
    later = [recent_block(b) for b in model.turn_bodies[last_rebuild + 1:]]
    assert len(later) >= 2 and set(later) == {block}


def test_a_state_db_from_before_rebuilt_to_gains_the_column(tmp_path) -> None:
    import sqlite3

    from mimo_tui.sessions.context_state import ContextStateStore

    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript("CREATE TABLE context_state (session_id TEXT PRIMARY KEY, watermark INTEGER NOT NULL DEFAULT 0, "
                      "rebuilt_from INTEGER NOT NULL DEFAULT 0, rebuilds INTEGER NOT NULL DEFAULT 0, summary TEXT NOT NULL "
                      "DEFAULT '', last_checkpoint_at REAL NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, "
                      "updated_at REAL NOT NULL DEFAULT 0);"
                      "INSERT INTO context_state(session_id, watermark, rebuilt_from, rebuilds) VALUES ('s1', 7, 5, 1);")
    old.close()
    first, second = ContextStateStore(path), ContextStateStore(path)  # a second process opening it is fine too
    assert first.get("s1").rebuilt_from == 5 and first.get("s1").rebuilt_to == 0
    first.update("s1", rebuilt_from=9, rebuilt_to=14)
    assert second.get("s1").rebuilt_to == 14 and second.get("s1").watermark == 7
    first.close()
    second.close()
