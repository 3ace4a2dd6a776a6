"""Memory files as a tree: folders open one level deep, each file a leaf carrying its relative path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath

from rich.text import Text
from textual.widgets import Tree


def fill_file_tree(tree: Tree[str], files: list[str], label: Callable[[str, str], str | Text] = lambda rel, name: name) -> None:
    """Replace the tree's nodes with `files` (posix relative paths); `label(rel, name)` draws each leaf."""
    tree.clear()
    folders: dict[str, object] = {}
    for rel in files:
        parts = PurePosixPath(rel).parts
        parent = tree.root
        for depth in range(1, len(parts)):
            key = "/".join(parts[:depth])
            if key not in folders:
                folders[key] = parent.add(parts[depth - 1] + "/", expand=depth == 1)
            parent = folders[key]  # type: ignore[assignment]
        parent.add_leaf(label(rel, parts[-1]), data=rel)
    tree.root.expand()
