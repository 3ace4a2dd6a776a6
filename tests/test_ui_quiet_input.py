"""Typing into the prompt or the memory search repaints the input only: the screen is not laid out per key."""

from __future__ import annotations

from tests.fixtures.chat_app import type_quickly, wait_for_agent, wait_until
from tests.test_ui_chat_pilot import SIZE


async def test_keys_typed_into_the_prompt_do_not_lay_out_the_screen(agent_project, make_chat_app) -> None:
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        prompt = app.query_one("#prompt")
        prompt.focus()
        await pilot.pause(0.3)
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app, layouts.append)
        for key in "hello world":
            await pilot.press("space" if key == " " else key)
            await pilot.pause(0.02)
        assert prompt.value == "hello world"
        # Before: Textual's Input changed its virtual size on every key, and each change laid out the whole screen.
        assert len(layouts) <= 1, f"{len(layouts)} screen layouts for 11 keys"
        # Text wider than the prompt still scrolls so the cursor stays in view.
        await type_quickly(pilot, "x" * (SIZE[0] + 20))
        await wait_until(pilot, lambda: prompt.value.endswith("x" * (SIZE[0] + 20)), what="the typed keys")
        await wait_until(pilot, lambda: prompt.scroll_x > 0, 10, "the prompt scrolled to its cursor")
        # `/` commands still complete (→ accepts).
        prompt.value = ""
        await pilot.press("slash", "h", "e")
        # The suggestion comes from a worker; → accepts it once it is there.
        await wait_until(pilot, lambda: prompt._suggestion == "/help", 10, "the /help suggestion")
        await pilot.press("right")
        assert prompt.value == "/help"


async def test_keys_typed_into_the_memory_search_do_not_lay_out_the_screen(agent_project, make_chat_app) -> None:
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(app.query("#memory-search-input")), 10, "the memory pane's search box")
        box = app.query_one("#memory-search-input")
        box.focus()
        await pilot.press("z", "q")  # no memory holds these: the results show "no matches" and then stay put
        await pilot.pause(0.5)
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app, layouts.append)
        for key in "zqzqzq":
            await pilot.press(key)
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert box.value == "zqzqzqzq"
        assert len(layouts) <= 1, f"{len(layouts)} screen layouts for 6 keys"
