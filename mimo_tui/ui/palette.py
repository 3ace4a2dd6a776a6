"""Every pane's commands in the palette, whether or not the pane was opened yet: a command shows its pane first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import SystemCommand
from textual.binding import Binding

# The app is passed in, not imported: this module is imported by it.
MimoApp = Any

PANE_TITLES = {"chat": "Chat", "memory": "Memory", "tasks": "Tasks", "trainer": "Trainer"}


def pane_class(pane_id: str) -> type:
    if pane_id == "memory":
        from mimo_tui.ui.memory_pane import MemoryPane

        return MemoryPane
    if pane_id == "tasks":
        from mimo_tui.ui.tasks_pane import TasksPane

        return TasksPane
    if pane_id == "trainer":
        from mimo_tui.ui.trainer_pane import TrainerPane

        return TrainerPane
    from mimo_tui.ui.chat_pane import ChatPane

    return ChatPane


def binding_commands(app: MimoApp) -> Iterable[SystemCommand]:
    """One command per key binding of each pane (`Tasks: Done (d)`), run in that pane after showing it."""
    for pane_id, title in PANE_TITLES.items():
        for binding in pane_class(pane_id).BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            key = app.get_key_display(binding)
            yield SystemCommand(f"{title}: {binding.description} ({key})", f"in the {title} pane",
                                _in_pane(app, pane_id, lambda pane, action=binding.action: pane.run_action(action)))


def layout_commands(app: MimoApp) -> Iterable[SystemCommand]:
    for view in ("tasks", "memory", "trainer"):
        yield SystemCommand(f"Side column: {view}", f"Show {view} beside the chat (F6 cycles; remembered)",
                            lambda v=view: app.call_later(app.action_side_view, v))
    yield SystemCommand("Side column: hide or show (F7)", "One pane at a time, or the chat with a side column",
                        app.action_toggle_side)
    yield SystemCommand("Side column: wider", "Four columns more (remembered)", lambda: app.action_side_width(4))
    yield SystemCommand("Side column: narrower", "Four columns fewer (remembered)", lambda: app.action_side_width(-4))
    yield SystemCommand("Maximise or restore the pane (F11)", "Fill the screen with the pane that has the keyboard",
                        app.action_toggle_maximise)


def pane_commands(app: MimoApp, pane_id: str, commands: Iterable[SystemCommand]) -> Iterable[SystemCommand]:
    """A mounted pane's own commands (train a named skill, revert …), each showing the pane before it runs."""
    for command in commands:
        yield SystemCommand(command.title, command.help, _in_pane(app, pane_id, lambda pane, c=command: c.callback()))


def _in_pane(app: MimoApp, pane_id: str, run: Callable[[object], object]) -> Callable[[], None]:
    async def show_then_run() -> None:
        await app.action_show_pane(pane_id)
        pane = app.query_one(f"#{pane_id}-pane")
        result = run(pane)
        if hasattr(result, "__await__"):
            await result

    return lambda: app.call_later(show_then_run)


def maintenance_commands(app: MimoApp) -> Iterable[SystemCommand]:
    """Screens that are not panes: distill's review and the review of a skill's drafted dataset."""

    def push(make: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            if not app.services.ready:
                app.notify("the project's stores are not open yet", severity="warning")
                return
            app.push_screen(make())

        return run

    def distill() -> object:
        from mimo_tui.ui.distill_review import DistillReviewScreen

        return DistillReviewScreen(app.services)

    def dataset() -> object:
        from mimo_tui.ui.dataset_review import DatasetReviewScreen

        return DatasetReviewScreen(app.services)

    yield SystemCommand("Distill: review proposals (/distill)", "Workflows repeated in past sessions", push(distill))
    yield SystemCommand("Dataset review (/dataset)", "Approve a skill's drafted dataset item by item, then train it",
                        push(dataset))
