"""Start-up as a user sees it: the footer's keys come first, the layout does not jump, nothing is claimed unread."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult

from tests.fixtures.ui import make_app, wait_until

WIDE = (120, 40)


def side_tasks_text(app: App) -> str:
    found = app.query("#side-tasks-list")
    return str(found.first().content) if found else ""


async def test_the_chat_keeps_its_width_from_the_first_frame_to_the_full_layout(git_project: Path) -> None:
    import mimo_tui.ui.app
    from mimo_tui.ui.app import MimoApp

    widths: list[int] = []

    class Watched(MimoApp):
        CSS_PATH = Path(mimo_tui.ui.app.__file__).parent / MimoApp.CSS_PATH

        def on_mount(self) -> None:  # Textual runs MimoApp.on_mount too
            self.call_after_refresh(lambda: widths.append(self.query_one("#chat-pane").region.width))

    app = Watched(start_dir=git_project, watch=False)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: "F3 opens the tasks pane" in side_tasks_text(app), timeout=15)
        # The side column holds its place from the first frame: the chat does not narrow when its view arrives.
        assert widths == [app.query_one("#chat-pane").region.width]
        assert app.query_one("#side-column").region.width >= 30


async def test_the_first_frame_has_the_footer_keys_and_the_prompt_focused(git_project: Path) -> None:
    import mimo_tui.ui.app
    from mimo_tui.ui.app import MimoApp

    seen: list[tuple[set[str], str | None]] = []

    class Watched(MimoApp):
        CSS_PATH = Path(mimo_tui.ui.app.__file__).parent / MimoApp.CSS_PATH

        def on_mount(self) -> None:  # Textual runs MimoApp.on_mount too
            self.call_after_refresh(lambda: seen.append(({key.key for key in self.query("FooterKey")},
                                                         self.focused.id if self.focused else None)))

    app = Watched(start_dir=git_project, watch=False)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: bool(seen))
        keys, focused = seen[0]
        assert focused == "prompt"
        assert {"escape", "tab", "f1", "f2", "f3", "f4", "ctrl+p"} <= keys, keys


async def test_the_footer_keys_come_before_the_side_view_and_the_project_opening(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: "project opened" in app.start_up and bool(app.query("#side-tasks")), timeout=15)
        marks = app.start_up
        assert marks["first frame"] <= marks["keys drawn"] < marks["project opened"]
        footer_keys = {key.key for key in app.query("FooterKey")}
        assert {"f1", "f2", "ctrl+p"} <= footer_keys


async def test_the_side_tasks_claim_no_tasks_only_after_reading_them(git_project: Path) -> None:
    from mimo_tui.services import LaunchOptions, Services
    from mimo_tui.ui.side.side_tasks import SideTasks

    services = Services(LaunchOptions(git_project))  # no session open yet: the tasks are unknown

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield SideTasks(services, id="side-tasks")

    host = Host()
    async with host.run_test() as pilot:
        await pilot.pause()
        assert "No tasks" not in side_tasks_text(host)
        assert "loading" in side_tasks_text(host)


def test_a_plain_mimo_reads_its_options_without_importing_the_subcommands() -> None:
    import subprocess
    import sys

    from mimo_tui.cli import build_parser, workbench_args

    for argv in ([], ["-c"], ["--continue", "--model", "openai/gpt-4o"], ["--model=ollama/qwen", "-c"]):
        quick, full = workbench_args(argv), build_parser().parse_args(argv)
        assert quick is not None and (quick.resume, quick.model, quick.command) == (full.resume, full.model, full.command)
    for argv in (["memory", "log"], ["--help"], ["--cont"], ["--model"], ["-c", "skill", "list"]):
        assert workbench_args(argv) is None, argv
    code = ("import sys, mimo_tui.cli as cli; cli.workbench_args([]); "
            "print(sorted(m for m in sys.modules if m.startswith('mimo_tui.commands')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out


async def test_the_footer_follows_the_keyboard_between_panes(git_project: Path) -> None:
    app = make_app(git_project)

    def footer_keys() -> set[str]:
        return {key.key for key in app.query("FooterKey")}

    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: "escape" in footer_keys())
        await pilot.press("f3")
        await wait_until(pilot, lambda: "a" in footer_keys() and "escape" not in footer_keys())
        await pilot.press("f1")
        await wait_until(pilot, lambda: "escape" in footer_keys() and "a" not in footer_keys())


async def test_the_first_turn_is_warmed_beside_the_session_opening_not_after_it(git_project: Path) -> None:
    """A question sent a second after start finds the tokenizer and the answer's widgets loaded: their warm-up starts
    as soon as the agent's stores are open, before the session opens (it used to start after, and a timer later)."""
    import sys

    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        pane = app.query_one("#chat-pane")
        await wait_until(pilot, lambda: {"session open", "first turn warmed"} <= set(pane.opening_steps), timeout=15)
        steps = pane.opening_steps
        assert steps.index("stores open") < steps.index("first turn warm-up started") < steps.index("session open")
        assert "mimo_tui.ui.chat.assistant_message" in sys.modules


def test_the_project_folder_is_made_before_its_memory_service_is_loaded(git_project: Path) -> None:
    """The app makes `.mimo/` from on_mount and holds only the memory service (most of the Python) for its keys."""
    from mimo_tui.services import LaunchOptions, Services

    services = Services(LaunchOptions(git_project, False, None))
    seen: list[tuple[bool, bool, bool]] = []

    def before_memory() -> None:
        mimo = git_project / ".mimo"
        seen.append(((mimo / ".git").is_dir(), (mimo / "MEMORY.md").is_file(), services.project is None))

    services.open_project(before_memory=before_memory)
    assert seen == [(True, True, True)]
    assert services.project is not None and services.memory is not None


async def test_the_project_folder_is_made_while_the_first_frame_is_drawn(git_project: Path) -> None:
    app = make_app(git_project)
    async with app.run_test(size=WIDE) as pilot:
        await wait_until(pilot, lambda: "project opened" in app.start_up, timeout=15)
        marks = app.start_up
        assert marks["project folder"] < marks["project opened"] and marks["keys drawn"] < marks["project opened"]
