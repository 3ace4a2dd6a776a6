"""The workbench as a user meets it: keys go where the user looks, a side column beside the chat, narrow screens."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList, CommandPalette
from textual.widgets import TextArea

from tests.fixtures.ui import make_app, wait_until

WIDE = (120, 40)
NARROW = (80, 24)


def toasts(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_chat(pilot) -> None:
    app = pilot.app
    await wait_until(pilot, lambda: app.project is not None, timeout=10)
    await wait_until(pilot, lambda: app.query_one("#chat-pane").agent is not None, timeout=10)
    await pilot.pause()


def highlighted_command(app) -> str:
    results = app.screen.query(CommandList)
    if not results or results.first().highlighted is None:
        return ""
    options = results.first()
    return str(options.get_option_at_index(options.highlighted).prompt)


async def test_keys_typed_after_visiting_the_tasks_pane_reach_the_chat_input(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")) and app.query_one("#task-tree").has_focus)
        await pilot.press("f1")
        prompt = app.query_one("#prompt")
        await wait_until(pilot, lambda: prompt.has_focus, 10, "the prompt focused")
        await pilot.press("d", "e", "f")
        await wait_until(pilot, lambda: prompt.value == "def", 10, "the keys in the prompt")
        assert not [t for t in toasts(app) if "select a task" in t or "already" in t]
        # And back: the keys go to the tasks pane again.
        await pilot.press("f3")
        await wait_until(pilot, lambda: app.query_one("#task-tree").has_focus)
        await pilot.press("a")
        await wait_until(pilot, lambda: app.query_one("#task-input").has_focus)


async def test_the_prompt_keeps_the_focus_after_the_palette_closes(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")) and app.query_one("#task-tree").has_focus)
        await pilot.press("f1")
        prompt = app.query_one("#prompt")
        await wait_until(pilot, lambda: prompt.has_focus, 10, "the prompt focused")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), 10, "the palette open")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), 10, "the palette closed")
        await wait_until(pilot, lambda: app.focused is prompt, 10, "the prompt focused again")


async def test_the_default_wide_screen_shows_the_chat_beside_a_side_column(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        side = app.query_one("#side-column")
        await wait_until(pilot, lambda: side.display and side.region.width >= 30)
        chat = app.query_one("#chat-pane")
        assert chat.region.width >= 70 and chat.region.right <= side.region.x
        # The side column switches between tasks, memory and trainer with one key.
        seen = set()
        for _ in range(3):
            seen.add(side.current)
            await pilot.press("f6")
            await pilot.pause(0.1)
        assert seen == {"side-tasks", "side-memory", "side-trainer"}
        assert app.focused is app.query_one("#prompt")


async def test_the_memory_side_view_lists_memory_files(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        side = app.query_one("#side-column")
        while side.current != "side-memory":
            await pilot.press("f6")
            await pilot.pause(0.05)
        tree = side.query_one("#side-memory-tree")
        await wait_until(pilot, lambda: any(str(node.label) == "MEMORY.md" for node in tree.root.children))
        search_box = side.query_one("#side-memory-search").query_one("Input")
        assert tree.region.y <= search_box.region.bottom + 1, "the file tree sits right under the search box, not half a column below"
        tree.focus()
        await pilot.pause()
        tree.cursor_line = next(n for n, node in enumerate(tree.root.children) if str(node.label) == "MEMORY.md")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query("#memory-pane")) and app.query_one("#memory-pane").relpath == "MEMORY.md")
        assert app.current_pane == "memory" and not side.display


async def test_a_narrow_screen_shows_one_pane_at_a_time(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=NARROW) as pilot:
        await open_chat(pilot)
        assert not app.query_one("#side-column").display
        assert app.query_one("#chat-pane").region.width >= 78


async def test_the_memory_editor_stays_usable_at_80x24(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=NARROW) as pilot:
        await open_chat(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(app.query("#memory-editor")))
        editor = app.query_one("#memory-editor", TextArea)
        await wait_until(pilot, lambda: editor.region.width >= 40, 10, "the editor laid out at least 40 wide")
        # The history and diff, hidden beside it, take its place on ctrl+g and give it back.
        assert not app.query_one("#memory-side").region.width
        await pilot.press("ctrl+g")
        side = app.query_one("#memory-side")
        await wait_until(pilot, lambda: side.region.width >= 40 and not editor.region.width, 10, "the history in its place")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: editor.region.width >= 40, 10, "the editor back")


async def test_maximise_and_restore_with_one_key(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await pilot.press("f11")
        chat = app.query_one("#chat-pane")
        await wait_until(pilot, lambda: app.screen.maximized is not None and chat.region.width >= 118, 10, "the chat maximised")
        await pilot.press("f11")
        await wait_until(pilot, lambda: app.screen.maximized is None, 10, "the layout restored")
        assert app.query_one("#side-column").display


async def test_clicking_a_tool_block_leaves_the_keyboard_with_the_prompt(agent_project, openai_server, make_chat_app) -> None:
    from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
    from tests.fixtures.chat_app import send, wait_idle
    from tests.fixtures.openai_server import Reply, ToolCall
    from tests.test_ui_chat_pilot import use_server

    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="Looking.", tool_calls=[ToolCall("list_dir", '{"path": "src"}')]), Reply(text="Done."))
    app = make_chat_app()
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await send(pilot, "what is in src?")
        await wait_idle(pilot)
        block = app.query_one(ToolCallBlock)
        await pilot.click(block.query_one("CollapsibleTitle"))
        await wait_until(pilot, lambda: not block.collapsed, 10, "the tool block opened")
        await pilot.press("o", "k")
        assert app.query_one("#prompt").value == "ok"


async def test_the_palette_offers_every_panes_commands_and_opens_the_pane(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        for expected in ("Tasks: Add (a)", "Tasks: Done (d)", "Memory: Save (^s)", "Trainer: Train skill (t)",
                         "Side column: memory", "Maximise or restore the pane (F11)"):
            assert any(title.startswith(expected.split(" (")[0]) for title in titles), (expected, titles)
        assert not app.query("#tasks-pane")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), 10, "the palette open")
        await pilot.press(*"Tasks: Add")
        await wait_until(pilot, lambda: highlighted_command(app).startswith("Tasks: Add"), 10, "Tasks: Add highlighted")
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(app.query("#tasks-pane")) and app.current_pane == "tasks")
        box = app.query_one("#task-input")
        await wait_until(pilot, lambda: box.has_class("shown") and box.has_focus)


async def test_the_side_column_is_remembered_and_settable_in_config(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await wait_until(pilot, lambda: bool(app.query("#side-column")))
        assert app.query_one("#side-column").current == "side-tasks"
        await pilot.press("f6")  # memory, remembered for the next start
        await pilot.pause(0.2)
    again = make_app(git_project)
    async with again.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        await wait_until(pilot, lambda: bool(again.query("#side-column")))
        await wait_until(pilot, lambda: again.query_one("#side-column").current == "side-memory")
    config = git_project / ".mimo" / "config.toml"
    config.write_text('[ui]\nside = "trainer"\nside_width = 50\n', encoding="utf-8")
    configured = make_app(git_project)
    async with configured.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        side = configured.query_one("#side-column")
        await wait_until(pilot, lambda: side.current == "side-trainer" and side.region.width == 50)


async def test_a_side_view_key_while_the_side_column_is_still_mounting_is_kept_not_a_crash(git_project: Path) -> None:
    """Under load, F6/F7 can arrive between the column entering the DOM and its children being composed."""
    from mimo_tui.ui.side.side_column import SideColumn

    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await open_chat(pilot)
        side = SideColumn(app.services, "side-tasks")
        assert side.current == "side-tasks"
        await side.show("side-trainer")  # not mounted yet: remembered, nothing raised
        assert side.current == "side-trainer"
