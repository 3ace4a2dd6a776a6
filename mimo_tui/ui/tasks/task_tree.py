"""The task tree widget: T1, T1.1 … with status icons."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Tree

from mimo_tui.tasks import Task

def task_label(task: Task) -> Text:
    style = {"in_progress": "bold", "blocked": "yellow", "done": "dim", "abandoned": "dim strike"}.get(task.status, "")
    label = Text.assemble((f"{task.icon} ", style), (task.id, "bold"), " ", (task.title, style))
    if task.focus:
        label.append("  ◀ focus", "italic")
    if task.note:
        label.append(f"  — {task.note}", "dim")
    return label


class TaskTree(Tree[str]):
    """Shows a session's tasks as a tree; node data is the task id."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("Tasks", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 3
        self._wanted: str | None = None

    def show_tasks(self, tasks: Sequence[Task], prefer: str | None = None) -> None:
        """Rebuild the tree, with the cursor on `prefer`, else on the task it was on."""
        selected = prefer or self._wanted or (self.cursor_node.data if self.cursor_node is not None else None)
        self.clear()
        nodes = {}
        for task in tasks:
            parent = nodes.get(task.parent, self.root) if task.parent else self.root
            node = parent.add(task_label(task), data=task.id, expand=True, allow_expand=False)
            nodes[task.id] = node
        for node in nodes.values():
            if node.children:
                node.allow_expand = True
        self._wanted = selected if selected in nodes else next(iter(nodes), None)
        if self._wanted is not None:
            # Node lines are known only after the tree is laid out again.
            self.call_after_refresh(self._move_to_wanted)

    def _move_to_wanted(self) -> None:
        if self._wanted is not None:
            self.select_task(self._wanted)
            self._wanted = None

    def select_task(self, task_id: str) -> None:
        """Put the cursor on a task."""
        stack = list(self.root.children)
        while stack:
            node = stack.pop()
            if node.data == task_id:
                self.move_cursor(node)
                return
            stack.extend(node.children)

    @property
    def selected_task_id(self) -> str | None:
        node = self.cursor_node
        return node.data if node is not None and node.data else None
