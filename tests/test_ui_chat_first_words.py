"""The first words of an answer are drawn at once; the rest of the stream is gathered a frame at a time."""

from __future__ import annotations

from mimo_tui.agent import events as ev
from mimo_tui.ui.chat.assistant_message import AssistantMessage
from tests.fixtures.chat_app import wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE


async def test_the_first_words_wait_for_nothing_and_the_rest_is_gathered(agent_project, make_chat_app) -> None:
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        first = ev.TextDeltaEvent(1, "Firstwords ")
        assert pane.stream.wait_before_drawing(first) == 0.0
        pane.stream.push(first)
        await wait_until(pilot, lambda: bool(pane.query(AssistantMessage)), what="the first words to be drawn")
        assert pane.stream.wait_before_drawing(ev.TextDeltaEvent(1, "and more")) > 0.0
        pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
        await wait_until(pilot, lambda: pane.stream.idle, what="the answer to end")
        # A finished answer's successor starts with its first words drawn at once too.
        assert pane.stream.wait_before_drawing(ev.TextDeltaEvent(2, "Next answer")) == 0.0
