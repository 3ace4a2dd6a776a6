"""The progress.md a task starts with."""

from __future__ import annotations

import time


def progress_template(task_id: str, title: str) -> str:
    """A fresh progress.md for a task, with the five sections the checkpoint writer fills in."""
    return (
        f"---\nwritten-at: {time.strftime('%Y-%m-%dT%H:%M:%S')}\n---\n"
        f"# {task_id} {title}\n\n## Task identity\n\n{task_id}: {title}\n\n## Intent\n\n"
        "## Files and code\n\n## Commands\n\n## Outcome and discoveries\n"
    )
