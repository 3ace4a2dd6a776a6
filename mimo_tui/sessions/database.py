"""Opening `.mimo/state.db`: one SQLite file shared by sessions, messages, usage and tasks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mimo_tui.sqlite_connect import connect_wal
from mimo_tui.store import StoreError


def open_state_db(path: Path) -> sqlite3.Connection:
    """Connect to the state database with WAL and a busy timeout, so the TUI and a headless run can share it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = connect_wal(path, timeout_s=10.0, synchronous="NORMAL")
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open the state database {path}: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    return connection
