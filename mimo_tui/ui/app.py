"""The mimo workbench app: four panes, themes, keymap, palette commands and the project behind them."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.theme import Theme
from textual import events
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from mimo_tui.collector import freeze_long_lived_objects, tune_for_interactive_use
from mimo_tui.start_trace import mark
from mimo_tui.services import LaunchOptions, Services
from mimo_tui.services import StoreError
from mimo_tui.ui.chat.agent_status import AgentStatus
from mimo_tui.ui.chat_pane import ChatPane
from mimo_tui.ui.messages import MemoryChanged, ProjectOpened
from mimo_tui.ui.pane_bar import PaneBar
from mimo_tui.ui.side.layout import NARROW_WIDTH, SideLayout
from mimo_tui.atomic_file import atomic_write
from mimo_tui.ui.side.side_column import SideColumn
from mimo_tui.ui.side.work_status import WorkStatus
from mimo_tui.ui.worker_results import show_worker_failure
from mimo_tui.ui.workbench_footer import WorkbenchFooter

if TYPE_CHECKING:
    from mimo_tui.llm.worker_client import ModelWorker
    from mimo_tui.project import Project

PANES = (("chat", "Chat", "f1"), ("memory", "Memory", "f2"), ("tasks", "Tasks", "f3"), ("trainer", "Trainer", "f4"))
# The widget each pane gives the keyboard to when it is shown (else its first focusable widget).
HOME_FOCUS = {"chat": "#prompt", "tasks": "#task-tree", "trainer": "#trainer-runs"}


KEYS_DRAWN_LATEST_S = 1.0


class MimoApp(App[int]):
    """The workbench."""

    CSS_PATH = "workbench.tcss"
    TITLE = "mimo"
    AUTO_FOCUS = "#prompt"
    BINDINGS = [
        Binding("f1", "show_pane('chat')", "Chat", id="pane.chat"),
        Binding("f2", "show_pane('memory')", "Memory", id="pane.memory"),
        Binding("f3", "show_pane('tasks')", "Tasks", id="pane.tasks"),
        Binding("f4", "show_pane('trainer')", "Trainer", id="pane.trainer"),
        Binding("f6", "side_view", "Side", id="side.next"),
        Binding("f7", "toggle_side", "Side on/off", id="side.toggle", show=False),
        Binding("f11", "toggle_maximise", "Maximise", id="app.maximise"),
        Binding("ctrl+p", "command_palette", "Palette", id="app.palette", show=False),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    def __init__(self, start_dir: Path, resume: bool = False, model: str | None = None, watch: bool = True) -> None:
        super().__init__()
        self.services = Services(LaunchOptions(start_dir, resume, model))
        self.watch_memory = watch
        self._stop_watching = threading.Event()
        self._mounted_panes: set[str] = {"chat"}
        self.layout_choice = SideLayout.remembered()
        self.current_pane = "chat"
        # Set once the footer's keys are drawn: the side column's view and the project's memory service wait for it.
        self._keys_drawn = threading.Event()
        # When each start-up step happened (time.perf_counter()): "first frame", "keys drawn", "project opened".
        self.start_up: dict[str, float] = {}
        # Before the stylesheet is parsed: set in on_mount, a theme re-parses it and re-styles the whole first screen.
        self._theme_problems = self._register_themes()

    def compose(self) -> ComposeResult:
        yield PaneBar(PANES, id="pane-bar")
        with Horizontal(id="workbench"):
            # The other panes' slots are mounted when first shown: the first frame pays for the chat's only.
            with ContentSwitcher(initial="chat", id="panes"):
                with Vertical(id="chat", classes="pane-slot"):
                    yield ChatPane(self.services, id="chat-pane")
            # The column is in the first frame (so the chat does not jump when it appears); its view mounts once
            # the footer's keys are drawn.
            side = SideColumn(self.services, f"side-{self.layout_choice.view}", id="side-column")
            side.styles.width = self.layout_choice.width
            side.display = False
            yield side
        yield WorkStatus(self.services, id="work-status")
        yield AgentStatus("opening project…", id="agent-status")
        yield WorkbenchFooter(on_keys_drawn=self._after_interactive_frame)

    def on_mount(self) -> None:
        tune_for_interactive_use()
        # Textual paints the first frame once on_mount is done: with the footer's keys in it.
        self.query_one(WorkbenchFooter).show_keys_now()
        for problem in self._theme_problems:
            self.notify(problem, title="Theme", severity="warning")
        self.call_after_refresh(self._after_first_frame)
        # The project's folder and repo are made now (git subprocesses, little Python), so `.mimo/` is there when
        # the first frame is; its memory service (~80 ms of imports) waits for the footer's keys to be drawn.
        self._open_project()
        # Should the footer never get its keys drawn (another screen on top), the project still opens.
        self.set_timer(KEYS_DRAWN_LATEST_S, self._after_interactive_frame)

    def _after_first_frame(self) -> None:
        self.start_up["first frame"] = time.perf_counter()
        freeze_long_lived_objects()
        # For bench/startup_frame.py: whether litellm was imported by the first frame.
        report = os.environ.get("MIMO_BENCH_REPORT")
        if report:
            facts = {"litellm_imported": "litellm" in sys.modules, "t": time.time(), "cpu_s": time.process_time()}
            atomic_write(Path(report), json.dumps(facts).encode())  # the bench reads it while we write
            self._report_end_of_start_up(Path(report + ".end"))

    def _after_interactive_frame(self) -> None:
        """The footer's keys are on screen: now the side column's view, the model worker and the memory service.

        Nothing here is awaited: the first frames wait for none of it.
        """
        if self._keys_drawn.is_set():
            return
        self.start_up["keys drawn"] = time.perf_counter()
        mark("keys drawn")
        self._keys_drawn.set()  # the project's thread goes on to the memory service
        self._update_side()
        # The worker imports litellm (when a provider is configured) on the other core while the user starts typing.
        self._start_model_worker()
        # The chat pane loads what the first turn needs (the tokenizer) as soon as the agent's stores are open.

    @work(exit_on_error=False, name="model worker")
    async def _start_model_worker(self) -> None:
        await self.model_worker.start()

    @work(exit_on_error=False, name="bench report")
    async def _report_end_of_start_up(self, path: Path) -> None:
        """For bench/startup_frame.py: whether the UI process imported litellm by the time the worker has."""
        await self.model_worker.wait_ready()
        facts = {"litellm_imported": "litellm" in sys.modules, "t": time.time(), "cpu_s": time.process_time()}
        atomic_write(path, json.dumps(facts).encode())

    @property
    def model_worker(self) -> ModelWorker:
        """The process that serves every model call of the app (created after the first frame, on first use)."""
        return self.services.model_worker

    @property
    def project(self) -> Project | None:
        return self.services.project

    # -- project --------------------------------------------------------------------------------
    def _hold_memory_until_keys_drawn(self) -> None:
        self.start_up["project folder"] = time.perf_counter()
        self._keys_drawn.wait(KEYS_DRAWN_LATEST_S)

    @work(thread=True, exit_on_error=False, name="open-project")
    def _open_project(self) -> None:
        try:
            project = self.services.open_project(before_memory=self._hold_memory_until_keys_drawn)
        except StoreError as exc:
            self.call_from_thread(self.notify, str(exc), title="Memory repo", severity="error", timeout=30)
            return
        self.post_message(ProjectOpened(project))

    def on_project_opened(self, message: ProjectOpened) -> None:
        self.start_up.setdefault("project opened", time.perf_counter())
        mark("project opened")
        project = message.project
        self.services.use_project(project)
        memory = self.services.memory
        for note in memory.recovery_notes:
            self.notify(note, title="Recovered", severity="warning", timeout=10)
        for problem in project.config.problems:
            self.notify(f"{problem}. Running on defaults for it.", title="Config", severity="warning", timeout=20)
        keymap = {k: v for k, v in project.config.table("keymap").items() if isinstance(v, str)}
        if keymap:
            self.set_keymap(keymap)
        chosen = {k: v for k, v in project.config.table("ui").items() if project.config.sources.get(f"ui.{k}") != "default"}
        configured = self.layout_choice.with_config(chosen)
        if configured != self.layout_choice:
            self.layout_choice = configured
            for side in self.query(SideColumn):
                side.styles.width = configured.width
            self.call_later(self.action_side_view, configured.view)
        memory.subscribe(lambda change: self.post_message(MemoryChanged(change)))
        if self.watch_memory and project.config.get("ui.watch_memory", True):
            self._watch_memory()
        from mimo_tui.llm.models import OFFLINE_PREFIX, ModelSpec

        name = self.services.options.model or str(project.config.get("model.default", "offline/agent"))
        model = ModelSpec(name, offline=name.startswith(OFFLINE_PREFIX))
        for status in self.query(AgentStatus):  # absent when the app is already closing
            status.show_project(project.root.name, model.label, str(project.config.get("agent.mode", "build")))
        for pane in self.query(".project-pane"):
            pane.post_message(ProjectOpened(project))
        if project.config.get("dream.auto", False):
            self._scheduled_dream()
        if project.config.get("distill.auto", False) or project.config.get("distill.train_nightly", False):
            self._scheduled_distill()

    @work(thread=True, exit_on_error=False, name="scheduled dream")
    def _scheduled_dream(self) -> None:
        from mimo_tui.services.maintenance import scheduled_dream

        review = scheduled_dream(self.services)
        if review is not None and review.commit is not None:
            self.call_from_thread(self.notify, f"{review.counts()}; /dream shows how, `mimo memory revert "
                                  f"{review.commit.short}` undoes it", title="Scheduled dream", timeout=10)

    @work(thread=True, exit_on_error=False, name="scheduled distill")
    def _scheduled_distill(self) -> None:
        from mimo_tui.services.maintenance import scheduled_distill, scheduled_training

        plan = scheduled_distill(self.services)
        if plan is not None:
            self.call_from_thread(self.notify, f"{len(plan.proposals)} proposal(s) from {plan.requests} request(s)"
                                  + ("; /distill reviews them" if plan.proposals else ""), title="Scheduled distill",
                                  timeout=10)
        started = scheduled_training(self.services)
        if isinstance(started, str):
            self.call_from_thread(self.notify, started, title="Nightly training", severity="warning", timeout=15)
        elif started:
            self.call_from_thread(self.notify, f"training {', '.join(p.skill for p in started)} on the reviewed "
                                  "dataset, capped by [trainer] max_usd; the result is staged for you to adopt",
                                  title="Nightly training", timeout=10)

    @work(thread=True, exit_on_error=False, name="memory-watcher")
    def _watch_memory(self) -> None:
        self.services.memory.watch_external_edits(
            self._stop_watching, lambda text: self.call_from_thread(self.notify, text, title="Memory", severity="error"),
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Background work never takes the app down: a failure is shown, and the app goes on."""
        if event.state == WorkerState.ERROR:
            show_worker_failure(self, event.worker)

    def on_memory_changed(self, message: MemoryChanged) -> None:
        for pane in self.query(".project-pane"):
            pane.post_message(MemoryChanged(message.change))

    async def action_quit(self) -> None:
        self._stop_watching.set()
        self.exit(0)

    async def on_unmount(self) -> None:
        self._stop_watching.set()
        # Awaited here, while the event loop still runs, so no MCP server or model worker outlives the app.
        await self.services.close()

    # -- panes ----------------------------------------------------------------------------------
    async def action_show_pane(self, pane_id: str) -> None:
        """Show a pane, mounting it the first time so the first frame only pays for chat."""
        if self.screen.maximized is not None:
            self.screen.minimize()
        self.current_pane = pane_id
        switcher = self.query_one("#panes", ContentSwitcher)
        if not switcher.query_children(f"#{pane_id}"):
            slot = Vertical(id=pane_id, classes="pane-slot")
            slot.display = False  # shown by the switch below, not beside the current pane meanwhile
            await switcher.mount(slot)
        switcher.current = pane_id
        self.query_one(PaneBar).active = pane_id
        self._update_side()
        if pane_id not in self._mounted_panes:
            self._mounted_panes.add(pane_id)
            widget = self._make_pane(pane_id)
            await self.query_one(f"#{pane_id}", Vertical).mount(widget)
            if self.project is not None:
                widget.post_message(ProjectOpened(self.project))
        self.call_after_refresh(self._focus_pane, pane_id)

    def _make_pane(self, pane_id: str) -> Widget:
        if pane_id == "memory":
            from mimo_tui.ui.memory_pane import MemoryPane

            return MemoryPane(self.services, id="memory-pane")
        if pane_id == "tasks":
            from mimo_tui.ui.tasks_pane import TasksPane

            return TasksPane(self.services, id="tasks-pane")
        from mimo_tui.ui.trainer_pane import TrainerPane

        return TrainerPane(self.services, id="trainer-pane")

    def _focus_pane(self, pane_id: str) -> None:
        """Give the keyboard to the shown pane, so no key reaches a pane the user cannot see."""
        pane = self.query_one(f"#{pane_id}", Vertical)
        if self.focused is not None and pane in self.focused.ancestors:
            return
        home = pane.query(HOME_FOCUS[pane_id]) if pane_id in HOME_FOCUS else None
        focusable = list(home) if home else [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()
        elif self.focused is not None:
            self.set_focus(None)

    async def open_memory_at(self, root: str, relpath: str, line: int) -> None:
        """Show the memory pane with `relpath` open at `line` (from the side column's tree or search)."""
        from mimo_tui.ui.memory_search import MemorySearch

        await self.action_show_pane("memory")
        self.query_one("#memory-pane").post_message(MemorySearch.Jump(root, relpath, line))

    # -- side column and layout -----------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < NARROW_WIDTH, "narrow")
        self._update_side()

    def _update_side(self) -> None:
        """The side column shows beside the chat when there is room and the user has not hidden it."""
        if not self.query(SideColumn):
            return  # not composed yet, or the app is closing
        side = self.query_one(SideColumn)
        shown = self.current_pane == "chat" and self.layout_choice.shown and self.size.width >= NARROW_WIDTH
        side.display = shown
        if shown and self.is_mounted and self._keys_drawn.is_set():
            self.call_later(side.show, side.current if side.current else f"side-{self.layout_choice.view}")

    async def action_side_view(self, view: str | None = None) -> None:
        """Show one side view (tasks, memory, trainer), or the next one; remembered."""
        if not self.query(SideColumn):
            return
        side = self.query_one(SideColumn)
        view_id = f"side-{view}" if view else side.next_view()
        self.layout_choice = self.layout_choice.but(view=view_id.removeprefix("side-"), shown=True)
        self.layout_choice.remember()
        await side.show(view_id)
        if self.current_pane != "chat":
            await self.action_show_pane("chat")
        self._update_side()

    def action_toggle_side(self) -> None:
        self.layout_choice = self.layout_choice.but(shown=not self.layout_choice.shown)
        self.layout_choice.remember()
        self._update_side()

    def action_side_width(self, delta: int) -> None:
        self.layout_choice = self.layout_choice.but(width=self.layout_choice.width + delta)
        self.layout_choice.remember()
        for side in self.query(SideColumn):
            side.styles.width = self.layout_choice.width

    def action_toggle_maximise(self) -> None:
        """Fill the screen with the pane that has the keyboard (or the side column), and back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
            self.call_after_refresh(self._focus_pane, self.current_pane)
            return
        side = self.query(SideColumn).first() if self.query(SideColumn) else None
        focused = self.focused
        if side is not None and side.display and focused is not None and side in focused.ancestors:
            self.screen.maximized = side
        else:
            self.screen.maximized = self.query_one(f"#{self.current_pane}", Vertical)

    # -- themes and palette ---------------------------------------------------------------------
    def _register_themes(self) -> list[str]:
        """Register the shipped and the user's themes and choose the remembered one; returns what could not be read."""
        from mimo_tui.themes import load_themes
        from mimo_tui.ui_state import load_ui_state

        themes, problems = load_themes()
        for spec in themes:
            self.register_theme(Theme(**spec))
        remembered = load_ui_state().get("theme")
        names = {spec["name"] for spec in themes} | set(self.available_themes)
        chosen = remembered if remembered in names else "mimo-dark" if "mimo-dark" in names else self.theme
        if chosen != self.theme:
            # What App._watch_theme does, minus its queued refresh_css: nothing is parsed or styled yet, and that
            # re-parse cost ~10 ms before the first frame (textual is pinned, so its private filter hook is too).
            self.set_reactive(App.theme, chosen)
            dark = self.current_theme.dark
            classes = {name: False for name in self.classes if name.startswith("-theme-")}
            self.update_classes({**classes, f"-theme-{chosen}": True, "-dark-mode": dark, "-light-mode": not dark},
                                update=False)
            self._refresh_truecolor_filter(self.ansi_theme)
            self.stylesheet.set_variables(self.get_css_variables())
        return problems

    def watch_theme(self, theme: str) -> None:
        from mimo_tui.ui_state import save_ui_state

        if self.is_mounted:
            save_ui_state(theme=theme)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for pane_id, title, _key in PANES:
            yield SystemCommand(f"Show {title.lower()} pane", f"Switch to the {title} pane", lambda p=pane_id: self.call_later(self.action_show_pane, p))
        for name in sorted(self.available_themes):
            if name.startswith("mimo"):
                yield SystemCommand(f"Theme: {name}", "Use this theme (remembered)", lambda n=name: setattr(self, "theme", n))
        from mimo_tui.ui.palette import binding_commands, layout_commands, maintenance_commands, pane_commands

        yield from layout_commands(self)
        yield from maintenance_commands(self)
        yield from binding_commands(self)
        for pane_id, _title, _key in PANES:
            for widget in self.query(f"#{pane_id}-pane"):
                commands = getattr(widget, "palette_commands", None)
                if commands:
                    yield from pane_commands(self, pane_id, commands())
