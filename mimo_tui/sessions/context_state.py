"""Per-session context state in state.db: what was checkpointed, where the sent context starts, the fallback summary.

It outlives a process, so a headless `mimo run --session` and the TUI pick up the same rebuild point.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from mimo_tui.sessions.database import open_state_db
from mimo_tui.store import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS context_state (
    session_id TEXT PRIMARY KEY,
    watermark INTEGER NOT NULL DEFAULT 0,
    rebuilt_from INTEGER NOT NULL DEFAULT 0,
    rebuilt_to INTEGER NOT NULL DEFAULT 0,
    rebuilds INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    last_checkpoint_at REAL NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class ContextState:
    """`watermark`: the last message id a committed checkpoint covers (it stays put when a writer fails).
    `rebuilt_from`: the first message id still sent verbatim after the last rebuild (0: all of them).
    `rebuilt_to`: the newest message id of the context when it was last rebuilt (where that tail ended)."""

    session_id: str
    watermark: int = 0
    rebuilt_from: int = 0
    rebuilds: int = 0
    summary: str = ""
    last_checkpoint_at: float = 0.0
    failures: int = 0
    rebuilt_to: int = 0


class ContextStateStore:
    def __init__(self, state_db: Path) -> None:
        self._db = open_state_db(state_db)
        self._lock = threading.Lock()
        try:
            self._db.executescript(SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(context_state)")}
            if "rebuilt_to" not in columns:  # a state.db from before the column
                try:
                    self._db.execute("ALTER TABLE context_state ADD COLUMN rebuilt_to INTEGER NOT NULL DEFAULT 0")
                    self._db.commit()
                except sqlite3.OperationalError as exc:  # another process added it first
                    if "duplicate column" not in str(exc):
                        raise
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the state database {state_db} is not usable: {exc}") from exc

    def get(self, session_id: str) -> ContextState:
        with self._lock:
            row = self._db.execute("SELECT * FROM context_state WHERE session_id=?", (session_id,)).fetchone()
        if row is None:
            return ContextState(session_id)
        return ContextState(session_id, row["watermark"], row["rebuilt_from"], row["rebuilds"], row["summary"],
                            row["last_checkpoint_at"], row["failures"], row["rebuilt_to"])

    def update(self, session_id: str, **fields: object) -> ContextState:
        state = replace(self.get(session_id), **fields)
        with self._lock:
            self._db.execute(
                "INSERT INTO context_state(session_id, watermark, rebuilt_from, rebuilds, summary, last_checkpoint_at, "
                "failures, updated_at, rebuilt_to) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(session_id) DO UPDATE SET "
                "watermark=excluded.watermark, rebuilt_from=excluded.rebuilt_from, rebuilt_to=excluded.rebuilt_to, "
                "rebuilds=excluded.rebuilds, "
                "summary=excluded.summary, last_checkpoint_at=excluded.last_checkpoint_at, failures=excluded.failures, "
                "updated_at=excluded.updated_at",
                (session_id, state.watermark, state.rebuilt_from, state.rebuilds, state.summary,
                 state.last_checkpoint_at, state.failures, time.time(), state.rebuilt_to),
            )
            self._db.commit()
        return state

    def close(self) -> None:
        # Under the lock: closing while another thread runs a statement on this connection can crash the process.
        with self._lock:
            self._db.close()


__all__ = ["ContextState", "ContextStateStore"]
