"""Keys typed while an answer streams: once the prompt has a key, no more of the answer is drawn until the frame
showing the key is painted, and the stream is drawn in a few frames between keys instead of one per coalescing
tick (issues 15 and 20: a key press waited behind a chunk's markdown and the screen layout that followed it)."""

from __future__ import annotations

import asyncio

from textual import events

from mimo_tui.agent import events as ev
from mimo_tui.ui.chat import stream_renderer
from mimo_tui.ui.chat.assistant_message import AssistantMessage
from tests.fixtures.chat_app import wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE

PIECE = "a stack of nodes"  # 16 characters every 10 ms: an ordinary provider's pace, drawn ~20 times a second
KEYS = 20


def answer_shown(app) -> int:
    return sum(message.shown_chars for message in app.query(AssistantMessage))


async def test_each_key_is_painted_before_more_of_a_streaming_answer(agent_project, make_chat_app, monkeypatch) -> None:
    # The stream waits for a key's frame at most KEY_ECHO_WAIT_S; a loaded machine may paint later than that.
    monkeypatch.setattr(stream_renderer, "KEY_ECHO_WAIT_S", 10.0)
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        prompt = app.query_one("#prompt")
        prompt.focus()
        await pilot.pause(0.1)
        typed_at: dict[int, int] = {}  # keys in the prompt -> answer characters shown when the prompt took the key
        painted_at: dict[int, int] = {}  # keys in the prompt -> answer characters shown by the frame that painted it
        frames: list[int] = []
        prompt.watch(prompt, "value", lambda value: typed_at.setdefault(len(value), answer_shown(app)), init=False)
        screen = app.screen
        paint = screen._compositor_refresh

        def observed_paint() -> None:  # observes Textual's screen update; changes nothing
            paint()
            painted_at.setdefault(len(prompt.value), answer_shown(app))
            frames.append(answer_shown(app))

        screen._compositor_refresh = observed_paint
        streaming = True

        async def model() -> None:
            while streaming:
                pane.stream.push(ev.TextDeltaEvent(1, PIECE))
                await asyncio.sleep(0.01)

        streamer = asyncio.create_task(model())
        await wait_until(pilot, lambda: answer_shown(app) > 0, what="the answer to start")
        typing_from = len(frames)
        for _ in range(KEYS):
            app.post_message(events.Key("q", "q"))
            await asyncio.sleep(0.1)
        await wait_until(pilot, lambda: len(painted_at) > KEYS, what="the keys to be painted")
        typing = frames[typing_from:]
        streaming = False
        await streamer
        pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
        await wait_until(pilot, lambda: pane.stream.idle, timeout=30, what="the answer to finish")
        message = app.query_one(AssistantMessage)
        assert message.finished and message.source == "".join(message.parts) and message.source.startswith(PIECE * 10)

    for keys in range(1, KEYS + 1):
        assert painted_at[keys] == typed_at[keys], f"more of the answer was drawn between key {keys} and its echo"
    # While typing, the stream is drawn every TYPING_FRAME_S or so, not on every coalescing tick (~20 a second).
    stream_frames = sum(1 for before, after in zip(typing, typing[1:]) if after != before)
    seconds = KEYS * 0.1
    assert stream_frames <= seconds / stream_renderer.TYPING_FRAME_S + 3, f"{stream_frames} stream frames in {seconds} s"
