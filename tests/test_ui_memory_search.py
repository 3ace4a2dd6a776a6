"""The memory pane's search, problem badges and context preview through Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from mimo_tui.ui.context_preview import ContextPreview
from mimo_tui.ui.hit_list import HitList
from mimo_tui.ui.memory_pane import MemoryPane
from tests.fixtures.chat_app import type_quickly
from tests.fixtures.ui import make_app, wait_until
from tests.test_ui_memory_pane import SIZE, open_memory_pane


async def test_search_hit_jumps_to_its_line(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        text = pane.editor.text + "\n## Deploy\n\n- the billing service talks to zanzibarquux over gRPC\n"
        app.project.store.write("MEMORY.md", text)
        await wait_until(pilot, lambda: "zanzibarquux" in pane.editor.text)
        await pilot.press("ctrl+f")
        await type_quickly(pilot, "zanzibarquux")
        results = pane.query_one("#memory-results", HitList)
        await wait_until(pilot, lambda: results.display and any(k.startswith("hit-") for k in pane.query_one("MemorySearch").targets))
        await pilot.press("enter")
        results.highlighted = next(i for i, key in enumerate(results.keys) if key.startswith("hit-"))
        await pilot.press("enter")
        line = text.splitlines().index("- the billing service talks to zanzibarquux over gRPC")
        await wait_until(pilot, lambda: pane.editor.cursor_location[0] == line)
        assert app.focused is pane.editor


async def test_problems_show_as_badge_and_list(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        rules = "\n".join(f"- rule number {i} " + "x" * 80 for i in range(400))
        app.project.store.write("MEMORY.md", pane.editor.text.replace("## Rules\n", f"## Rules\n{rules}\n"))
        await wait_until(pilot, lambda: pane.problems.get("MEMORY.md"))
        problems = pane.query_one("#memory-problems", Static)
        await wait_until(pilot, lambda: problems.display and "Rules" in str(problems.render()))
        tree_labels = [str(node.label) for node in pane.query_one("#memory-tree").root.children]
        assert any(label.startswith("MEMORY.md ⚠") for label in tree_labels)


async def test_context_preview_matches_assembly(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=SIZE) as pilot:
        pane: MemoryPane = await open_memory_pane(app, pilot)
        # A template's empty sections are not injected; an entry is.
        app.project.store.write("MEMORY.md", pane.editor.text.replace("## Rules\n", "## Rules\n- run pytest -q first\n"))
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, ContextPreview))
        shown = app.screen.block
        expected = app.services.memory.preview("none")
        assert shown.text == expected.text and shown.tokens == expected.tokens
        assert [b.name for b in shown.blocks] == [b.name for b in expected.blocks]
        assert "Project memory" in shown.text and "- run pytest -q first" in shown.text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ContextPreview))
        assert pane.is_attached


async def test_an_uncommitted_outside_file_is_found_after_refocusing_the_search(git_project: Path) -> None:
    app = make_app(git_project)  # no file watcher: nothing commits outside edits
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_memory_pane(app, pilot)
        await pilot.press("ctrl+f")
        await type_quickly(pilot, "billing")
        search = pane.query_one("MemorySearch")
        results = pane.query_one("#memory-results", HitList)
        await wait_until(pilot, lambda: results.display)
        (app.project.workspace.mimo_dir / "outside.md").write_text("# Outside\n\n## Wombat notes\nthe wombat digs\n")
        pane.editor.focus()
        await pilot.press("ctrl+f")
        search.query_one("#memory-search-input").value = ""
        await type_quickly(pilot, "wombat")
        await wait_until(pilot, lambda: any(target[1] == "outside.md" for target in search.targets.values()))
