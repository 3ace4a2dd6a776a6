"""The task pane: the chat session's task tree, its keys, and the selected task's progress.md."""

from __future__ import annotations

import threading
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Markdown, Static

from textual import work

from mimo_tui.services import Services, StoreError
from mimo_tui.tasks import TaskError
from mimo_tui.ui.tasks.task_tree import TaskTree
from mimo_tui.ui.tasks.session_follow import FollowsSessionTasks
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver


class TasksChanged(Message, bubble=False):
    """The task store changed (the agent's task tool or this pane)."""


class TasksPane(FollowsSessionTasks, ShowsWorkerFailures, Vertical):
    """The session's task tree; add, rename, start, finish, block, unblock and abandon from the keyboard."""

    DEFAULT_CLASSES = "project-pane"
    BINDINGS = [
        Binding("a", "add", "Add", id="tasks.add"),
        Binding("n", "add_subtask", "Add subtask", id="tasks.add_subtask"),
        Binding("r", "rename", "Rename", id="tasks.rename"),
        Binding("s", "start", "Start", id="tasks.start"),
        Binding("d", "done", "Done", id="tasks.done"),
        Binding("b", "block", "Block", id="tasks.block"),
        Binding("u", "unblock", "Unblock", id="tasks.unblock"),
        Binding("x", "abandon", "Abandon", id="tasks.abandon"),
    ]
    DEFAULT_CSS = """
    TasksPane { height: 1fr; }
    TasksPane #tasks-title { height: 1; padding: 0 1; background: $surface; text-style: bold; }
    TasksPane #task-tree { width: 1fr; min-width: 40; }
    TasksPane #task-progress-scroll { width: 1fr; border-left: solid $panel; }
    TasksPane #task-input { display: none; }
    TasksPane #task-input.shown { display: block; }
    TasksPane .empty-state { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.session_id: str | None = None
        self._input_purpose: tuple[str, str | None] | None = None
        self._select_next: str | None = None
        self._titles: dict[str, str] = {}
        self._loads = 0  # reads of the task list started; only the latest one is shown
        # Writes run in worker threads in the order their keys were pressed ("u" then "d"): each takes a ticket.
        self._turns = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def compose(self) -> ComposeResult:
        yield Static("Tasks", id="tasks-title")
        with Horizontal():
            yield TaskTree(id="task-tree")
            with VerticalScroll(id="task-progress-scroll"):
                yield Markdown("Select a task to see its `progress.md`.", id="task-progress")
        yield Static("No tasks yet. Press a to add one, or let the agent create them.", id="tasks-empty", classes="empty-state")
        yield Input(id="task-input", select_on_focus=False)

    def tasks_changed(self) -> Message:
        return TasksChanged()

    def session_followed(self) -> None:
        self.refresh_tasks()

    def on_tasks_changed(self, message: TasksChanged) -> None:
        self.refresh_tasks()

    def refresh_tasks(self) -> None:
        if self.session_id is None:
            return
        services, session_id = self.services, self.session_id
        self._loads += 1
        load = self._loads
        self._load_tasks(load, services, session_id)

    @work(thread=True, group="tasks-load", exit_on_error=False, name="task list")
    def _load_tasks(self, load: int, services: Services, session_id: str) -> None:
        tasks = services.tasks.list(session_id)
        deliver(self, self._show_tasks, load, tasks)

    def _show_tasks(self, load: int, tasks: list[Any]) -> None:
        if load != self._loads:
            return  # a later read (another change, or another session) is on its way
        self._titles = {task.id: task.title for task in tasks}
        self.query_one(TaskTree).show_tasks(tasks, prefer=self._select_next)
        self._select_next = None
        self.query_one("#tasks-title", Static).update(f"Tasks of this session ({len(tasks)})  ·  a add  n subtask  r rename  s start  d done  b block  u unblock  x abandon")
        self.query_one("#tasks-empty").display = not tasks
        self._show_progress()

    # -- selection ------------------------------------------------------------------------------
    def on_tree_node_highlighted(self, event: TaskTree.NodeHighlighted) -> None:
        self._show_progress()

    def on_tree_node_selected(self, event: TaskTree.NodeSelected) -> None:
        self._show_progress()

    def _show_progress(self) -> None:
        task_id = self.query_one(TaskTree).selected_task_id
        if task_id not in self._titles:  # the tree still holds the previous list
            task_id = next(iter(self._titles), None)
        if not task_id or self.session_id is None:
            # No task (a new session): no log of another session's task may stay in view.
            self.query_one("#task-progress", Markdown).update("Select a task to see its `progress.md`.")
            return
        services, session_id = self.services, self.session_id
        self._load_progress(services, session_id, task_id)

    @work(thread=True, group="tasks-progress", exclusive=True, exit_on_error=False, name="task progress")
    def _load_progress(self, services: Services, session_id: str, task_id: str) -> None:
        text = services.task_progress(session_id, task_id)
        if text is None:
            text = f"_.mimo/{services.tasks.progress_relpath(session_id, task_id)} does not exist_"
        deliver(self, self._show_progress_text, task_id, text)

    def _show_progress_text(self, task_id: str, text: str) -> None:
        if self.query_one(TaskTree).selected_task_id == task_id:
            self.query_one("#task-progress", Markdown).update(text)

    # -- keys -----------------------------------------------------------------------------------
    def _selected(self) -> str | None:
        task_id = self.query_one(TaskTree).selected_task_id
        if task_id is None:
            self.notify("select a task first", severity="warning", timeout=3)
        return task_id

    def _ask(self, purpose: str, task_id: str | None, placeholder: str, value: str = "") -> None:
        if self.session_id is None:
            self.notify("no session yet", severity="warning")
            return
        box = self.query_one("#task-input", Input)
        self._input_purpose = (purpose, task_id)
        box.placeholder = placeholder
        box.value = value
        box.cursor_position = len(value)
        box.add_class("shown")
        box.focus()

    def action_add(self) -> None:
        self._ask("add", None, "title of the new task (Enter adds, Esc cancels)")

    def action_add_subtask(self) -> None:
        task_id = self._selected()
        if task_id:
            self._ask("add", task_id, f"title of the new subtask of {task_id}")

    def action_rename(self) -> None:
        task_id = self._selected()
        if task_id and self.session_id is not None:
            self._ask("rename", task_id, f"new title of {task_id}", self._titles.get(task_id, ""))

    def action_block(self) -> None:
        task_id = self._selected()
        if task_id:
            self._ask("block", task_id, f"why is {task_id} blocked?")

    def action_start(self) -> None:
        self._apply("start")

    def action_done(self) -> None:
        self._apply("done")

    def action_unblock(self) -> None:
        self._apply("unblock")

    def action_abandon(self) -> None:
        self._apply("abandon")

    def _apply(self, operation: str, task_id: str | None = None, text: str = "") -> None:
        task_id = task_id or self._selected()
        if not task_id or self.session_id is None:
            return
        self._change(operation, self.services.tasks, self.session_id, task_id, text)

    def _change(self, operation: str, store: Any, session_id: str, task_id: str | None, text: str) -> None:
        """Run one task-store operation in a worker thread (each is a database write and a progress.md commit)."""
        ticket = self._next_ticket
        self._next_ticket += 1
        self._write(ticket, operation, store, session_id, task_id, text)

    @work(thread=True, group="tasks-write", exit_on_error=False, name="task change")
    def _write(self, ticket: int, operation: str, store: Any, session_id: str, task_id: str | None, text: str) -> None:
        with self._turns:
            self._turns.wait_for(lambda: self._serving == ticket)
        try:
            if operation == "add":
                created = store.create(session_id, text, task_id, by="user")
                deliver(self, self._select_after_refresh, created.id)
            elif operation in ("block", "rename"):
                getattr(store, operation)(session_id, task_id, text)
            else:
                getattr(store, operation)(session_id, task_id)
        except TaskError as exc:
            deliver(self, self.notify, str(exc), severity="warning", timeout=6)
        except StoreError as exc:
            deliver(self, self.notify, str(exc), title="Tasks", severity="error", timeout=15)
        finally:
            with self._turns:
                self._serving += 1
                self._turns.notify_all()

    def _select_after_refresh(self, task_id: str) -> None:
        self._select_next = task_id
        self.refresh_tasks()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "task-input" or self._input_purpose is None:
            return
        event.stop()
        purpose, task_id = self._input_purpose
        text = event.value.strip()
        self._close_input()
        if purpose == "add" and text and self.session_id is not None:
            self._change("add", self.services.tasks, self.session_id, task_id, text)
        elif purpose in ("rename", "block") and task_id:
            self._apply(purpose, task_id, text)

    def key_escape(self) -> None:
        if self._input_purpose is not None:
            self._close_input()

    def _close_input(self) -> None:
        self._input_purpose = None
        box = self.query_one("#task-input", Input)
        box.remove_class("shown")
        box.value = ""
        self.query_one(TaskTree).focus()
