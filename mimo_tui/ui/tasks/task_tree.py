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

    def show_tasks(self, tasks: Sequence[Task]) -> None:
        """Rebuild the tree, keeping the cursor on the same task when it still exists."""
        selected = self.cursor_node.data if self.cursor_node is not None else None
        self.clear()
        nodes = {}
        for task in tasks:
            parent = nodes.get(task.parent, self.root) if task.parent else self.root
            node = parent.add(task_label(task), data=task.id, expand=True, allow_expand=False)
            nodes[task.id] = node
        for node in nodes.values():
            if node.children:
                node.allow_expand = True
        target = nodes.get(selected) if selected else None
        if target is None and nodes:
            target = next(iter(nodes.values()))
        if target is not None:
            self.move_cursor(target)

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
