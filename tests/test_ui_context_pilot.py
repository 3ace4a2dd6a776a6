"""The chat shows a long session's context work: the status line warns and names the checkpoint, a divider opens
the injected block after a rebuild, and /checkpoint and /compact are commands."""

from __future__ import annotations

from mimo_tui.agent import events as ev
from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.context_divider import ContextDivider
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.openai_server import LocalOpenAIServer
from tests.fixtures.scripted_long_session import LongSessionModel

SIZE = (130, 36)


def use_server(project: AgentProject, server: LocalOpenAIServer) -> None:
    project.write_config(
        '[model]\ndefault = "test"\ncontext_window = 32000\n\n'
        f'[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n\n[llm]\nmax_retries = 1\n'
    )


def status_text(app) -> str:
    return str(app.query_one("#agent-status").render())


async def test_status_line_and_divider_of_a_rebuilt_context(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    model = LongSessionModel(answer_words=1500)  # ~3.2K tokens an answer
    openai_server.responder = model
    notes: list[str] = []
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        original = app.notify
        app.notify = lambda message, *a, **k: (notes.append(str(message)), original(message, *a, **k))[1]  # type: ignore[method-assign]
        pane = await wait_for_agent(pilot)
        await send(pilot, "TURN-1: read the parser")
        await wait_idle(pilot, timeout=60)
        assert "(" in status_text(app) and "checkpoint" not in status_text(app)  # under the first threshold: quiet
        await send(pilot, "TURN-2: go on")
        await wait_idle(pilot, timeout=60)
        # Past 5,580 tokens the meter says where the rebuild comes (it said "checkpointing" whether or not the writer
        # ran) and the writer runs; the line then says when it wrote, from the writer's events alone (it kept saying
        # "writing" after the commit until something else redrew it).
        assert "(19%) rebuild at 16.7K" in status_text(app) or "(20%) rebuild at 16.7K" in status_text(app)
        assert pane.agent.keeper.writer.running or pane.agent.keeper.writer.last_checkpoint_at
        await wait_until(pilot, lambda: "  ·  checkpoint " in status_text(app), 30,
                         "the status line to say when the checkpoint was written")
        assert not pane.agent.keeper.writer.running and "writing" not in status_text(app)
        turn = 3
        while not app.query(ContextDivider) and turn < 9:
            await send(pilot, f"TURN-{turn}: go on")
            await wait_idle(pilot, timeout=60)
            turn += 1
        dividers = list(app.query(ContextDivider))
        assert dividers, "no rebuild within 8 turns"
        divider = dividers[0]
        assert str(divider.title).startswith("context rebuilt from checkpoint")
        assert divider.collapsed
        divider.collapsed = False
        await wait_until(pilot, lambda: bool(divider.query(".injected-block")), 10, "the divider's injected block")
        injected = str(divider.query_one(".injected-block").render())
        assert 'block="checkpoint"' in injected and "TURN-1: read the parser" in injected
        assert "%" in status_text(app) and "over the window" not in status_text(app)
        # A rebuild that has to wait for the writer says so in the chat (the request looked stuck for up to 60 s).
        pane.stream.push(ev.RebuildWaiting(pane.agent.session_id, 60.0))
        await wait_until(pilot, lambda: any("waiting for the checkpoint writer (at most 60 s)" in str(line.render())
                                            for line in app.query(".work-line")), 5, "the waiting line")
        for command in ("/checkpoint", "/compact"):
            await send(pilot, command)
        await wait_until(pilot, lambda: any("writing a checkpoint now" in note or "queued" in note for note in notes)
                         and any("rebuilt from it before the next request" in note for note in notes), 10, "both notes")
        assert not any("unknown command" in note for note in notes)


def test_the_context_meter_never_passes_100_percent_silently() -> None:
    from mimo_tui.ui.chat.agent_status import status_line

    line = str(status_line("p", "m", "build", 16_900, 4_000, 0.0))
    assert "16.9K/4.0K (422%) over the window" in line


async def test_a_resumed_session_shows_where_its_rebuilt_context_starts(agent_project, openai_server,
                                                                          make_chat_app) -> None:
    # `mimo -c` showed the whole transcript with nothing saying the model is no longer sent most of it.
    from tests.fixtures.agent_project import RecordedEvents
    from tests.test_context_rebuild import run_turns

    use_server(agent_project, openai_server)
    openai_server.responder = LongSessionModel(answer_words=1500)
    events = RecordedEvents()
    agent = agent_project.open(events, model=None)
    await run_turns(agent, 7)
    assert events.of(ev.ContextRebuilt)
    tail_from = agent_project.services.context_state.get(agent.session_id).rebuilt_from
    first_sent = next(m for m in agent.transcript if m.id >= tail_from)
    agent_project.services.close()
    app = make_chat_app(resume=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await wait_until(pilot, lambda: bool(app.query(ContextDivider)), 10, "the divider of the resumed session")
        (divider,) = app.query(ContextDivider)
        # The divider's children mount a frame after it does; a loaded machine shows the gap.
        await wait_until(pilot, lambda: bool(divider.query(".injected-block")), 10, "the divider's injected block")
        assert str(divider.title).startswith("context rebuilt from checkpoint · ") and str(divider.title).endswith(" tokens sent from here")
        assert 'block="checkpoint"' in str(divider.query_one(".injected-block").render())
        blocks = list(pane.conversation.children)
        after = blocks[blocks.index(divider) + 1]  # the first message still sent, right below the divider
        shown = after.source if isinstance(after, AssistantMessage) else str(after.render())
        assert type(after).__name__ == {"user": "UserMessage", "assistant": "AssistantMessage"}[first_sent.role]
        assert shown == first_sent.content
