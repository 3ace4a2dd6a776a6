"""The task tree store: tasks per session in state.db, each with a progress.md in the memory repo."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from mimo_tui.sessions.database import open_state_db
from mimo_tui.store import StoreError, VersionedStore, Writer
from mimo_tui.tasks.progress import ProgressLog, progress_template, render_progress, unwritten_sections
from mimo_tui.tasks.records import (
    ABANDONED,
    BLOCKED,
    DONE,
    IN_PROGRESS,
    OPEN,
    TERMINAL,
    Task,
    TaskChanged,
    TaskError,
)

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    session_id TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    parent TEXT,
    focus INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (session_id, id)
);
"""
TASK_ID = re.compile(r"^T\d+(\.\d+)*$")


def _sort_key(task_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in task_id[1:].split("."))


class TaskStore:
    """Create, list and move tasks through their statuses; at most one task per session is in focus."""

    def __init__(self, state_db: Path, memory: VersionedStore | None = None) -> None:
        self.memory = memory
        self._db = open_state_db(state_db)
        self._db.executescript(SCHEMA)
        self._lock = threading.RLock()
        self._subscribers: list[Callable[[TaskChanged], None]] = []

    def close(self) -> None:
        # Under the lock: closing while another thread runs a statement on this connection can crash the process.
        with self._lock:
            self._db.close()

    def subscribe(self, callback: Callable[[TaskChanged], None]) -> Callable[[], None]:
        """Call `callback` after every change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _publish(self, event: TaskChanged) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("task subscriber failed")

    # -- reading --------------------------------------------------------------------------------
    def list(self, session_id: str) -> list[Task]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM tasks WHERE session_id=?", (session_id,)).fetchall()
        return sorted((self._task(r) for r in rows), key=lambda t: _sort_key(t.id))

    def get(self, session_id: str, task_id: str) -> Task:
        task_id = self._check_id(task_id)
        with self._lock:
            row = self._db.execute("SELECT * FROM tasks WHERE session_id=? AND id=?", (session_id, task_id)).fetchone()
        if row is None:
            known = ", ".join(t.id for t in self.list(session_id)) or "none yet"
            raise TaskError(f"no task {task_id} in this session (tasks: {known})")
        return self._task(row)

    def focus(self, session_id: str) -> Task | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM tasks WHERE session_id=? AND focus=1", (session_id,)).fetchone()
        return self._task(row) if row else None

    def progress_relpath(self, session_id: str, task_id: str) -> str:
        return f"sessions/{session_id}/tasks/{task_id}/progress.md"

    # -- operations -----------------------------------------------------------------------------
    def create(self, session_id: str, title: str, parent: str | None = None, *, by: str = "agent") -> Task:
        """Add a task; `by` ("agent" or "user") is the author of its progress.md commit."""
        title = title.strip()
        if not title:
            raise TaskError("a task needs a title")
        parent_id = self.get(session_id, parent).id if parent else None
        with self._lock:
            for _attempt in range(5):  # another process (a headless run) may take the same number first
                siblings = [t for t in self.list(session_id) if t.parent == parent_id]
                task_id = f"{parent_id}.{len(siblings) + 1}" if parent_id else f"T{len(siblings) + 1}"
                now = time.time()
                try:
                    self._db.execute(
                        "INSERT INTO tasks(session_id, id, title, status, parent, focus, note, created_at, updated_at) "
                        "VALUES (?,?,?,?,?,0,'',?,?)",
                        (session_id, task_id, title, OPEN, parent_id, now, now),
                    )
                    break
                except sqlite3.IntegrityError:
                    continue
            else:
                raise TaskError(f"could not number a new task in session {session_id}; try again")
        self._write_progress(session_id, task_id, title, by, parent_id)
        self._publish(TaskChanged(session_id, task_id, "create"))
        return self.get(session_id, task_id)

    def start(self, session_id: str, task_id: str) -> Task:
        task = self.get(session_id, task_id)
        if task.status in TERMINAL:
            raise TaskError(f"{task.id} is {task.status}; create a new task instead of restarting it")
        with self._lock:
            self._db.execute("UPDATE tasks SET focus=0 WHERE session_id=?", (session_id,))
            self._set(session_id, task.id, status=IN_PROGRESS, focus=1, note="")
        return self._changed(session_id, task.id, "start")

    def assign(self, session_id: str, task_id: str, note: str) -> Task:
        """Show who works on a task (a subagent): in progress with a note, without taking the session's focus."""
        task = self.get(session_id, task_id)
        if task.status in TERMINAL:
            raise TaskError(f"{task.id} is already {task.status}")
        self._set(session_id, task.id, status=IN_PROGRESS if task.status == OPEN else task.status, note=note.strip())
        return self._changed(session_id, task.id, "assign")

    def block(self, session_id: str, task_id: str, reason: str = "") -> Task:
        task = self.get(session_id, task_id)
        if task.status in TERMINAL:
            raise TaskError(f"{task.id} is already {task.status}")
        self._set(session_id, task.id, status=BLOCKED, focus=0, note=reason.strip())
        return self._changed(session_id, task.id, "block")

    def unblock(self, session_id: str, task_id: str) -> Task:
        task = self.get(session_id, task_id)
        if task.status != BLOCKED:
            raise TaskError(f"{task.id} is {task.status}, not blocked")
        self._set(session_id, task.id, status=OPEN, note="")
        return self._changed(session_id, task.id, "unblock")

    def done(self, session_id: str, task_id: str, note: str = "", *, require_progress: bool = False) -> Task:
        """Mark a task done; with `require_progress` (the agent's path) only once its progress.md is written."""
        if require_progress:
            self._check_progress_written(session_id, self.get(session_id, task_id))
        return self._finish(session_id, task_id, DONE, note, "done")

    def progress_text(self, session_id: str, task_id: str) -> str | None:
        """The task's progress.md, or None when there is none (no memory repo, or never created)."""
        if self.memory is None:
            return None
        return self.memory.read(self.progress_relpath(session_id, task_id)).text

    def write_progress(self, session_id: str, task_id: str, log: ProgressLog, writer: Writer) -> str:
        """Write the task's progress.md (the five sections) as one commit by `writer`; returns its relpath."""
        task = self.get(session_id, task_id)
        if self.memory is None:
            raise TaskError("this task tree has no memory repo, so progress.md cannot be written")
        relpath = self.progress_relpath(session_id, task.id)
        text = render_progress(task.id, task.title, log, parent=task.parent, author=writer.role)
        try:
            self.memory.write(relpath, text, writer, message=f"tasks: {writer.role} wrote the progress of {task.id}")
        except StoreError as exc:
            raise TaskError(f"progress.md of {task.id} was not written: {exc}") from exc
        self._publish(TaskChanged(session_id, task.id, "progress"))
        return relpath

    def _check_progress_written(self, session_id: str, task: Task) -> None:
        if self.memory is None:
            return
        missing = unwritten_sections(self.progress_text(session_id, task.id))
        if missing:
            raise TaskError(
                f"{task.id} cannot be marked done yet: its progress log (.mimo/{self.progress_relpath(session_id, task.id)}) "
                f"has no {' and no '.join(repr(m) for m in missing)}. Write it first with the task tool, "
                f"op=progress, id={task.id}, intent, files, commands and outcome (what was achieved and learned), "
                "then mark it done again"
            )

    def abandon(self, session_id: str, task_id: str, reason: str = "") -> Task:
        return self._finish(session_id, task_id, ABANDONED, reason, "abandon")

    def rename(self, session_id: str, task_id: str, title: str) -> Task:
        task = self.get(session_id, task_id)
        if not title.strip():
            raise TaskError("a task needs a title")
        self._set(session_id, task.id, title=title.strip())
        return self._changed(session_id, task.id, "rename")

    def _finish(self, session_id: str, task_id: str, status: str, note: str, operation: str) -> Task:
        task = self.get(session_id, task_id)
        if task.status in TERMINAL:
            raise TaskError(f"{task.id} is already {task.status}")
        open_children = [t.id for t in self.list(session_id) if t.parent == task.id and t.status not in TERMINAL]
        if status == DONE and open_children:
            raise TaskError(f"{task.id} still has unfinished subtasks ({', '.join(open_children)}); finish or abandon them first")
        self._set(session_id, task.id, status=status, focus=0, note=note.strip())
        return self._changed(session_id, task.id, operation)

    def _set(self, session_id: str, task_id: str, **fields: object) -> None:
        fields["updated_at"] = time.time()
        with self._lock:
            self._db.execute(
                f"UPDATE tasks SET {', '.join(f'{k}=?' for k in fields)} WHERE session_id=? AND id=?",
                (*fields.values(), session_id, task_id),
            )

    def _changed(self, session_id: str, task_id: str, operation: str) -> Task:
        self._publish(TaskChanged(session_id, task_id, operation))
        return self.get(session_id, task_id)

    def _write_progress(self, session_id: str, task_id: str, title: str, by: str, parent: str | None) -> None:
        if self.memory is None:
            return
        relpath = self.progress_relpath(session_id, task_id)
        try:
            if not self.memory.read(relpath).exists:
                self.memory.write(
                    relpath,
                    progress_template(task_id, title, parent),
                    Writer(by, session_id=session_id),
                    message=f"tasks: created {task_id} in session {session_id}",
                )
        except StoreError as exc:
            log.warning("could not create %s: %s", relpath, exc)

    @staticmethod
    def _check_id(task_id: str) -> str:
        task_id = (task_id or "").strip().upper()
        if not TASK_ID.match(task_id):
            raise TaskError(f"{task_id!r} is not a task id (expected T1, T2, T1.1 ...)")
        return task_id

    @staticmethod
    def _task(r: sqlite3.Row) -> Task:
        return Task(
            r["session_id"], r["id"], r["title"], r["status"], r["parent"], bool(r["focus"]), r["note"], r["created_at"], r["updated_at"]
        )

