"""Opening `.mimo/state.db`: one SQLite file shared by sessions, messages, usage and tasks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mimo_tui.store import StoreError


def open_state_db(path: Path) -> sqlite3.Connection:
    """Connect to the state database with WAL and a busy timeout, so the TUI and a headless run can share it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(str(path), timeout=10.0, check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the state database {path}: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    return connection
