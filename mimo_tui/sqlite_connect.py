"""Opening a SQLite file in WAL mode that several mimo processes share."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

OPEN_WAIT_S = 15.0


def connect_wal(path: Path, timeout_s: float, synchronous: str) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout.

    Switching a new file to WAL takes an exclusive lock for which SQLite may answer "database is locked"
    at once, without waiting (two processes opening the same new file): that is retried here with backoff.
    """
    deadline = time.monotonic() + OPEN_WAIT_S
    delay = 0.01
    while True:
        db = sqlite3.connect(str(path), timeout=timeout_s, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous}")
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            busy = "locked" in str(exc) or "busy" in str(exc)
            if not busy or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        except BaseException:
            db.close()
            raise
