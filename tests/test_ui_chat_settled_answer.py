"""A streaming answer draws each closed segment once and keeps it as lines, so each frame's work stays the same
however long the answer grows; a finished answer looks exactly as one widget per segment did."""

from __future__ import annotations

import re
from html import unescape

from mimo_tui.agent import events as ev
from mimo_tui.ui.chat.answer_segment import AnswerSegment, RenderCost
from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.settled_answer import SettledAnswer
from tests.fixtures.chat_app import wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE

PARAGRAPH = (
    "The parser reads the input once and keeps a small **stack** of open nodes; each closing token pops one and "
    "attaches it to its parent, so the tree is built in a single pass.\n\n"
)
CODE = "```python\ndef handle(request):\n    return render(request.path)\n```\n\n"
LIST = "- first point about the design\n- second point, with *emphasis*\n\n"


def cells(svg: str) -> tuple[dict[float, list[str]], list[tuple[str, str, str, str]]]:
    """What a screenshot shows: each row's background colour cell by cell, and each text run with its style (the
    SVG's grouping of same-coloured rectangles, which depends on the widget tree, left out)."""
    svg = re.sub(r"terminal-\d+", "T", svg)
    rows: dict[float, list[str]] = {}
    for fill, x, y, width in re.findall(r'<rect fill="(#\w+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', svg):
        rows.setdefault(float(y), []).extend([fill] * round(float(width) / 12.2))
    styles = dict(re.findall(r"\.(T-r\d+) \{ ([^}]*) \}", svg))
    texts = [(styles.get(cls, ""), x, y, unescape(text))
             for cls, x, y, text in re.findall(r'<text class="(T-r\d+)" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg)]
    return rows, texts


def answer(parts: int) -> str:
    pieces = [f"## Section {n}\n\n{PARAGRAPH}{CODE if n % 2 else LIST}{PARAGRAPH}" for n in range(parts)]
    return "".join(pieces) + "That is the whole answer."


async def stream(pilot, pane, text: str, piece: int = 40) -> None:
    for start in range(0, len(text), piece):
        pane.stream.push(ev.TextDeltaEvent(1, text[start:start + piece]))
        await pilot.pause(0.01)
    pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
    await wait_until(pilot, lambda: pane.stream.idle, timeout=30, what="the answer to be drawn")
    await pilot.pause(0.1)


async def test_closed_segments_are_drawn_once_and_the_message_stays_two_widgets(agent_project, make_chat_app) -> None:
    text = answer(16)
    half = text.index("## Section 8")
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        widest = 0
        drawn_before: dict[tuple[int, int], int] = {}
        for start in range(0, len(text), 40):
            if start >= half and not drawn_before:
                await wait_until(pilot, lambda: not pane.stream.pending, what="the first half to be drawn")
                await pilot.pause(0.1)
                settled = app.query_one(SettledAnswer)
                drawn_before, width = dict(settled.draws), settled.content_size.width
            pane.stream.push(ev.TextDeltaEvent(1, text[start:start + 40]))
            await pilot.pause(0.01)
            for message in app.query(AssistantMessage):
                widest = max(widest, len(message.children))
        pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
        await wait_until(pilot, lambda: pane.stream.idle, timeout=30, what="the answer to be drawn")
        message = app.query_one(AssistantMessage)
        settled = message.query_one(SettledAnswer)
        assert len(settled.sources) >= 12 and len(drawn_before) >= 6, "the answer was not cut into segments"
        # Before: one widget per closed segment, each visited by every layout of the screen.
        assert widest <= 2, f"the streaming message held {widest} widgets"
        # The first half's segments were not drawn again while the second half was appended after them.
        assert settled.content_size.width == width
        assert {key: settled.draws[key] for key in drawn_before} == drawn_before
        assert sum(1 for (_, at) in settled.draws if at == width) == len(settled.sources)
        assert "".join(message.parts) == text == message.source
        conversation = pane.conversation
        assert conversation.max_scroll_y > 0 and conversation.scroll_y == conversation.max_scroll_y, "not kept at the end"


async def test_a_streamed_piece_lays_the_screen_out_once(agent_project, make_chat_app, monkeypatch) -> None:
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await stream(pilot, pane, answer(4))
        # Markdown counted as cheap, so the live segment is drawn as markdown at once (not plain text until a pause).
        monkeypatch.setattr(RenderCost, "seconds_per_char", 1e-7)
        pane.stream.push(ev.TextDeltaEvent(2, PARAGRAPH))
        await wait_until(pilot, lambda: not pane.stream.pending and not pane.stream.idle, what="the next answer")
        await pilot.pause(0.5)
        monkeypatch.setattr(RenderCost, "seconds_per_char", 1e-7)
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app, layouts.append)
        pane.stream.push(ev.TextDeltaEvent(2, "A second paragraph, long enough to take a line of its own.\n\n"))
        await wait_until(pilot, lambda: not pane.stream.pending, what="the piece to be written")
        await pilot.pause(0.3)
        # Before: each widget that grew asked for a second layout of the whole screen when it took its new size.
        assert len(layouts) == 1, f"{len(layouts)} screen layouts for one streamed piece"


async def test_a_streamed_answer_looks_as_one_widget_per_segment_did(agent_project, make_chat_app) -> None:
    text = answer(3)
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        app.query_one("#prompt").cursor_blink = False
        await pilot.pause(0.3)
        await stream(pilot, pane, text)
        message = app.query_one(AssistantMessage)
        parts = message.parts
        assert len(parts) >= 3 and message.query(SettledAnswer)
        streamed = app.export_screenshot()

        await message.remove()
        old_shape = AssistantMessage()
        await pane.conversation.mount(old_shape)
        await old_shape.mount_all([AnswerSegment(part) for part in parts])
        old_shape.finished = True
        await pilot.pause(0.1)
        assert cells(app.export_screenshot()) == cells(streamed)
