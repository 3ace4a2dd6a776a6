"""A fast stream is drawn in frame-sized pieces, so key presses are handled while a long answer is still arriving."""

from __future__ import annotations

from mimo_tui.agent import events as ev
from mimo_tui.ui.chat.answer_segment import AnswerSegment
from mimo_tui.ui.chat import assistant_message
from mimo_tui.ui.chat.assistant_message import AssistantMessage
from tests.fixtures.chat_app import wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE

CODE_BLOCK = (
    "```python\ndef handle(request: Request) -> Response:\n    user = authenticate(request.headers)\n"
    "    if user is None:\n        return Response(status=401)\n    return render(user, request.path)\n```\n\n"
    "1. check the token\n2. load the user\n3. render the page\n\n"
)


def shown_text(app) -> str:
    return "".join(message.source for message in app.query(AssistantMessage))


def drawn_text(segment: AnswerSegment) -> str:
    return "".join(piece.text for piece in segment.render().segments)


async def test_a_key_pressed_during_a_burst_is_handled_before_the_burst_is_drawn(agent_project, make_chat_app) -> None:
    burst = CODE_BLOCK * 150  # ~40k characters arriving at once, as a fast provider's backlog does
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        prompt = app.query_one("#prompt")
        prompt.focus()
        pane.agent.subscriber(ev.TextDeltaEvent(1, burst))
        pane.agent.subscriber(ev.TurnEnded(1, ev.TURN_DONE, ""))
        await wait_until(pilot, lambda: bool(app.query(AssistantMessage)), what="the first piece of the answer")
        app.simulate_key("x")
        await wait_until(pilot, lambda: prompt.value == "x", what="the key press")
        assert len(shown_text(app)) < len(burst) / 4, "the key waited until most of the burst was drawn"

        await wait_until(pilot, lambda: pane.stream.idle, timeout=60, what="the answer to finish")
        message = app.query_one(AssistantMessage)
        assert message.finished and message.source == burst
        assert "".join(message.parts) == burst
        assert not any(segment.plain for segment in message.query(AnswerSegment)), "a finished answer is all markdown"


async def test_a_long_code_block_streaming_fast_is_plain_until_the_stream_pauses(agent_project, make_chat_app, monkeypatch) -> None:
    # A pause longer than a loaded machine's polling delay, so "plain while streaming" is observable.
    monkeypatch.setattr(assistant_message, "PAUSE_BEFORE_MARKDOWN_S", 2.0)
    lines = "".join(f"    total += weight({index}) * value({index})\n" for index in range(200))
    block = "```python\ndef score(items):\n" + lines  # an open fence: the live segment cannot close
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        pane.agent.subscriber(ev.TextDeltaEvent(1, block))
        await wait_until(pilot, lambda: shown_text(app) == block and not pane.stream.pending, what="the block to be written")
        live = app.query_one(AssistantMessage).query_one(AnswerSegment)
        assert live.plain, "a long live code block is redrawn as markdown on every write"
        await pilot.pause()
        assert "```python" in drawn_text(live)
        await wait_until(pilot, lambda: not live.plain, timeout=6, what="markdown once the stream paused")
        await pilot.pause()
        assert "def score" in drawn_text(live) and "```" not in drawn_text(live)
