"""The memory pane through Pilot: edit, save, history, diff, revert, external edits, conflicts."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Static

from mimo_tui.store import VersionedStore
from mimo_tui.ui.conflict_dialog import ConflictDialog
from mimo_tui.ui.memory_history import MemoryHistory
from mimo_tui.ui.memory_pane import MemoryPane
from tests.fixtures.chat_app import type_quickly
from tests.fixtures.ui import make_app, wait_until

SIZE = (120, 40)


async def open_memory_pane(app, pilot) -> MemoryPane:
    await wait_until(pilot, lambda: app.project is not None)
    await pilot.press("f2")
    await wait_until(pilot, lambda: app.query(MemoryPane) and app.query_one(MemoryPane).relpath == "MEMORY.md")
    pane = app.query_one(MemoryPane)
    await wait_until(pilot, lambda: "Project memory" in pane.editor.text)
    return pane


def history_messages(pane: MemoryPane) -> list[str]:
    history = pane.query_one(MemoryHistory)
    return [str(history.get_option_at_index(i).prompt) for i in range(history.option_count)]


async def test_save_commits_and_shows_in_history(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.focus()
        pane.editor.move_cursor((pane.editor.document.line_count - 1, 0))
        await type_quickly(pilot, "- deploy port 8421")
        await pilot.press("enter")
        assert pane.dirty
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not pane.dirty and len(history_messages(pane)) == 2)
        assert "user" in history_messages(pane)[0] and "memory: user edited MEMORY.md" in history_messages(pane)[0]
    store = VersionedStore(git_project / ".mimo")
    assert "- deploy port 8421" in store.read("MEMORY.md").text
    assert store.log("MEMORY.md")[0].author == "user"


async def test_diff_and_revert_from_the_keyboard(git_project: Path) -> None:
    store = VersionedStore(git_project / ".mimo")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        original = pane.editor.text
        info = app.project.store.write("MEMORY.md", original + "- a wrong fact\n", message="memory: agent added a fact")
        await wait_until(pilot, lambda: "a wrong fact" in pane.editor.text)
        await wait_until(pilot, lambda: "+- a wrong fact" in pane.diff_text)
        history = pane.query_one(MemoryHistory)
        history.focus()
        history.highlighted = 0
        assert history.selected_sha == info.sha
        await pilot.press("r")
        await wait_until(pilot, lambda: "a wrong fact" not in pane.editor.text)
        await wait_until(pilot, lambda: len(history_messages(pane)) == 3)
        assert history_messages(pane)[0].count("revert") >= 1
    assert store.read("MEMORY.md").text == original


async def test_conflicting_revert_is_refused_with_a_message(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        first = app.project.store.write("MEMORY.md", "one\n")
        app.project.store.write("MEMORY.md", "one, then two\n")
        await wait_until(pilot, lambda: pane.editor.text == "one, then two\n")
        pane.revert(first.sha)
        await wait_until(pilot, lambda: any("aborted" in str(n.message) for n in app._notifications))
        assert pane.editor.text == "one, then two\n"
    assert (git_project / ".mimo" / "MEMORY.md").read_text() == "one, then two\n"


async def test_external_edit_appears_and_is_committed(git_project: Path) -> None:
    app = make_app(git_project, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        await pilot.pause(0.3)  # let the watcher start
        with (git_project / ".mimo" / "MEMORY.md").open("a") as handle:
            handle.write("- external fact: the deploy port is 8421\n")
        await wait_until(pilot, lambda: "deploy port is 8421" in pane.editor.text, timeout=4)
        await wait_until(pilot, lambda: "external" in history_messages(pane)[0], timeout=4)


async def test_conflicting_save_asks_and_overwrite_keeps_the_users_text(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.focus()
        pane.editor.insert("my precious line\n")
        (git_project / ".mimo" / "MEMORY.md").write_text("someone else's text\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.press("d")
        await wait_until(pilot, lambda: "+my precious line" in pane.diff_text)
        assert "my precious line" in pane.editor.text
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.press("o")
        await wait_until(pilot, lambda: not pane.dirty and "my precious line" in (git_project / ".mimo" / "MEMORY.md").read_text())


async def test_conflicting_save_reload_takes_the_disk_version(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.insert("draft\n")
        (git_project / ".mimo" / "MEMORY.md").write_text("disk wins\n")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog))
        await pilot.press("r")
        await wait_until(pilot, lambda: pane.editor.text == "disk wins\n")


async def test_binary_file_is_shown_as_such(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        (git_project / ".mimo" / "image.bin").write_bytes(b"\x89PNG\x00\x00binary")
        pane.open_file("image.bin")
        await wait_until(pilot, lambda: pane.relpath == "image.bin")
        assert pane.editor.read_only and pane.editor.text == ""
        assert "binary" in str(pane.query_one("#memory-title", Static).render())


async def test_config_error_is_shown_and_app_runs_on_defaults(git_project: Path) -> None:
    (git_project / ".mimo").mkdir()
    (git_project / ".mimo" / "config.toml").write_text("[ui]\ntheme = 42\n")
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        await wait_until(pilot, lambda: any("line 2" in str(n.message) for n in app._notifications))
        pane = await open_memory_pane(app, pilot)
        assert app.project.config.get("ui.theme") == "mimo-dark" and pane.is_attached


async def test_keymap_from_config_remaps_a_binding(git_project: Path) -> None:
    (git_project / ".mimo").mkdir()
    (git_project / ".mimo" / "config.toml").write_text('[keymap]\n"memory.save" = "f9"\n')
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.focus()
        pane.editor.insert("remapped save\n")
        await pilot.press("f9")
        await wait_until(pilot, lambda: not pane.dirty)
    assert "remapped save" in (git_project / ".mimo" / "MEMORY.md").read_text()


async def test_theme_choice_is_remembered(git_project: Path, isolated_home: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "mimo-dark"
        app.theme = "mimo-light"
        await pilot.pause()
    state = json.loads((isolated_home / ".local" / "share" / "mimo" / "ui-state.json").read_text())
    assert state["theme"] == "mimo-light"
    again = make_app(git_project)
    async with again.run_test(size=SIZE):
        assert again.theme == "mimo-light"


async def test_every_pane_is_reachable_from_the_keyboard(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.project is not None)
        for key, pane_id in (("f3", "tasks"), ("f4", "trainer"), ("f2", "memory"), ("f1", "chat")):
            await pilot.press(key)
            await wait_until(pilot, lambda: app.query_one("#panes").current == pane_id)
        assert "mimo skill train" in str(app.query_one("#trainer-pane .empty-state", Static).render())


async def test_typing_during_a_save_is_kept(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        pane.editor.insert("saved line\n")
        saved = pane.editor.text
        pane.action_save()
        pane.editor.insert("typed while saving\n")  # lands before the save's reload comes back
        await wait_until(pilot, lambda: len(history_messages(pane)) == 2)
        await pilot.pause(0.2)
        assert "typed while saving" in pane.editor.text and pane.dirty
        assert (git_project / ".mimo" / "MEMORY.md").read_text() == saved
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: not pane.dirty)
    assert "typed while saving" in (git_project / ".mimo" / "MEMORY.md").read_text()
