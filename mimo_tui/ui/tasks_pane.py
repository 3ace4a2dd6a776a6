"""The task pane: the chat session's task tree, its keys, and the selected task's progress.md."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Markdown, Static

from mimo_tui.tasks import TaskError
from mimo_tui.ui.chat.messages import SessionSwitched
from mimo_tui.ui.tasks.task_tree import TaskTree


class TasksChanged(Message, bubble=False):
    """The task store changed (the agent's task tool or this pane)."""


class TasksPane(Vertical):
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services: Any = None
        self.session_id: str | None = None
        self._unsubscribe: Any = None
        self._input_purpose: tuple[str, str | None] | None = None
        self._select_next: str | None = None

    def compose(self) -> ComposeResult:
        yield Static("Tasks", id="tasks-title")
        with Horizontal():
            yield TaskTree(id="task-tree")
            with VerticalScroll(id="task-progress-scroll"):
                yield Markdown("Select a task to see its `progress.md`.", id="task-progress")
        yield Static("No tasks yet. Press a to add one, or let the agent create them.", id="tasks-empty", classes="empty-state")
        yield Input(id="task-input", select_on_focus=False)

    def on_mount(self) -> None:
        chat = self.app.query("#chat-pane")
        current = chat.first().current_session() if chat and hasattr(chat.first(), "current_session") else None
        if current is not None:
            self._follow(*current)

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_session_switched(self, message: SessionSwitched) -> None:
        self._follow(message.services, message.session_id)

    def _follow(self, services: Any, session_id: str) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.services = services
        self.session_id = session_id
        self._unsubscribe = services.tasks.subscribe(lambda change: self.post_message(TasksChanged()))
        self.refresh_tasks()

    def on_tasks_changed(self, message: TasksChanged) -> None:
        self.refresh_tasks()

    def refresh_tasks(self) -> None:
        if self.services is None or self.session_id is None:
            return
        tasks = self.services.tasks.list(self.session_id)
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
        viewer = self.query_one("#task-progress", Markdown)
        if not task_id or self.services is None or self.session_id is None:
            return
        relpath = self.services.tasks.progress_relpath(self.session_id, task_id)
        snapshot = self.services.project.store.read(relpath)
        viewer.update(snapshot.text if snapshot.text is not None else f"_.mimo/{relpath} does not exist_")

    # -- keys -----------------------------------------------------------------------------------
    def _selected(self) -> str | None:
        task_id = self.query_one(TaskTree).selected_task_id
        if task_id is None:
            self.notify("select a task first", severity="warning", timeout=3)
        return task_id

    def _ask(self, purpose: str, task_id: str | None, placeholder: str, value: str = "") -> None:
        if self.services is None or self.session_id is None:
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
        if task_id and self.services is not None and self.session_id is not None:
            self._ask("rename", task_id, f"new title of {task_id}", self.services.tasks.get(self.session_id, task_id).title)

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
        if not task_id or self.services is None or self.session_id is None:
            return
        store = self.services.tasks
        try:
            if operation == "start":
                store.start(self.session_id, task_id)
            elif operation == "done":
                store.done(self.session_id, task_id)
            elif operation == "unblock":
                store.unblock(self.session_id, task_id)
            elif operation == "abandon":
                store.abandon(self.session_id, task_id)
            elif operation == "block":
                store.block(self.session_id, task_id, text)
            elif operation == "rename":
                store.rename(self.session_id, task_id, text)
        except TaskError as exc:
            self.notify(str(exc), severity="warning", timeout=6)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "task-input" or self._input_purpose is None:
            return
        event.stop()
        purpose, task_id = self._input_purpose
        text = event.value.strip()
        self._close_input()
        if purpose == "add" and text and self.services is not None and self.session_id is not None:
            try:
                task = self.services.tasks.create(self.session_id, text, task_id)
            except TaskError as exc:
                self.notify(str(exc), severity="warning")
                return
            self._select_next = task.id
            self.refresh_tasks()
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
