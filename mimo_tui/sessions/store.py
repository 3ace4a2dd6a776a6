"""The session store: sessions, their messages (with tool calls and results) and usage, in state.db."""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from mimo_tui.sessions.database import open_state_db
from mimo_tui.sessions.history_sink import (
    ASSISTANT_TEXT,
    ERROR_TEXT,
    TOOL_INPUT,
    TOOL_OUTPUT,
    USER_TEXT,
    HistorySink,
)
from mimo_tui.sessions.records import COMPLETE, INTERRUPTED, Session, StoredMessage, UsageRow
from mimo_tui.store import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL DEFAULT 'build',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    turn INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    tool_calls TEXT NOT NULL DEFAULT '[]',
    tool_call_id TEXT,
    tool_name TEXT,
    status TEXT NOT NULL DEFAULT 'complete',
    is_error INTEGER NOT NULL DEFAULT 0,
    duration_s REAL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages(session_id, id);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    message_id INTEGER,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    latency_s REAL NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_session ON usage(session_id);
"""


def new_session_id() -> str:
    """A sortable, readable session id like `20261123-190730-a1b2`."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class SessionStore:
    """Reads and writes sessions and messages; every stored text also goes to the history sink."""

    def __init__(self, state_db: Path, history: HistorySink | None = None) -> None:
        self.path = state_db
        self.history = history
        self._db = open_state_db(state_db)
        self._lock = threading.RLock()
        try:
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"the state database {state_db} is not usable: {exc}") from exc

    def close(self) -> None:
        # Under the lock: closing while another thread runs a statement on this connection can crash the process.
        with self._lock:
            self._db.close()

    # -- sessions -------------------------------------------------------------------------------
    def create(self, model: str, mode: str = "build", title: str = "") -> Session:
        now = time.time()
        session_id = new_session_id()
        with self._lock:
            while self._db.execute("SELECT 1 FROM sessions WHERE id=?", (session_id,)).fetchone():
                session_id = new_session_id()
            self._db.execute(
                "INSERT INTO sessions(id, title, model, mode, created_at, updated_at) VALUES (?,?,?,?,?,?)",
                (session_id, title, model, mode, now, now),
            )
        return Session(session_id, title, model, mode, now, now)

    def get(self, session_id: str) -> Session | None:
        rows = self._sessions("WHERE s.id = ?", (session_id,), 1)
        return rows[0] if rows else None

    def last(self) -> Session | None:
        """The session to resume: the newest one a person talked to (a subagent's child session is not one)."""
        rows = self._sessions("WHERE s.mode != 'subagent'", (), 1)
        return rows[0] if rows else None

    def list(self, limit: int = 50, *, with_subagents: bool = True) -> list[Session]:
        """Newest first; without the subagents' child sessions for a person choosing one to resume."""
        return self._sessions("" if with_subagents else "WHERE s.mode != 'subagent'", (), limit)

    def find(self, prefix: str) -> Session:
        """The session whose id is or starts with `prefix`; a clear error when none or several match."""
        exact = self.get(prefix)
        if exact:
            return exact
        rows = self._sessions("WHERE s.id LIKE ?", (prefix.replace("%", "") + "%",), 3)
        if not rows:
            raise StoreError(f"no session {prefix!r} in {self.path} (see `mimo sessions`)")
        if len(rows) > 1:
            raise StoreError(f"session id {prefix!r} is ambiguous: {', '.join(r.id for r in rows)}")
        return rows[0]

    def _sessions(self, where: str, params: tuple[Any, ...], limit: int) -> list[Session]:
        query = (
            "SELECT s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS n, "
            "(SELECT COALESCE(SUM(cost_usd), 0) FROM usage u WHERE u.session_id = s.id) AS cost "
            f"FROM sessions s {where} ORDER BY s.updated_at DESC, s.id DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(query, (*params, limit)).fetchall()
        return [
            Session(r["id"], r["title"], r["model"], r["mode"], r["created_at"], r["updated_at"], r["n"], r["cost"])
            for r in rows
        ]

    def update(self, session_id: str, *, title: str | None = None, model: str | None = None, mode: str | None = None) -> None:
        fields = {"title": title, "model": model, "mode": mode}
        sets = [(k, v) for k, v in fields.items() if v is not None]
        with self._lock:
            self._db.execute(
                f"UPDATE sessions SET {', '.join(f'{k}=?' for k, _ in sets) + (', ' if sets else '')}updated_at=? WHERE id=?",
                (*[v for _, v in sets], time.time(), session_id),
            )

    # -- messages -------------------------------------------------------------------------------
    def add_message(
        self,
        session_id: str,
        turn: int,
        role: str,
        content: str,
        *,
        tool_calls: list[dict[str, Any]] | None = None,
        tool_call_id: str | None = None,
        tool_name: str | None = None,
        status: str = COMPLETE,
        is_error: bool = False,
        duration_s: float | None = None,
    ) -> StoredMessage:
        now = time.time()
        calls = tool_calls or []
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO messages(session_id, turn, role, content, tool_calls, tool_call_id, tool_name, status, "
                "is_error, duration_s, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (session_id, turn, role, content, json.dumps(calls), tool_call_id, tool_name, status, int(is_error), duration_s, now),
            )
            self._db.execute("UPDATE sessions SET updated_at=? WHERE id=?", (now, session_id))
        message = StoredMessage(
            int(cursor.lastrowid or 0), session_id, turn, role, content, calls, tool_call_id, tool_name, status, is_error, duration_s, now
        )
        self._send_to_history(message)
        return message

    def begin_message(self, session_id: str, turn: int, role: str = "assistant") -> int:
        """Store an empty message marked interrupted, so a crash mid-reply leaves the partial reply behind."""
        now = time.time()
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO messages(session_id, turn, role, content, status, created_at) VALUES (?,?,?,'',?,?)",
                (session_id, turn, role, INTERRUPTED, now),
            )
        return int(cursor.lastrowid or 0)

    def save_partial(self, message_id: int, content: str) -> None:
        with self._lock:
            self._db.execute("UPDATE messages SET content=? WHERE id=?", (content, message_id))

    def finish_message(
        self, message_id: int, content: str, *, tool_calls: list[dict[str, Any]] | None = None, status: str = COMPLETE
    ) -> StoredMessage:
        """Set a begun message's final text, tool calls and status; complete messages go to the history sink."""
        with self._lock:
            self._db.execute(
                "UPDATE messages SET content=?, tool_calls=?, status=? WHERE id=?",
                (content, json.dumps(tool_calls or []), status, message_id),
            )
            row = self._db.execute("SELECT * FROM messages WHERE id=?", (message_id,)).fetchone()
            self._db.execute("UPDATE sessions SET updated_at=? WHERE id=?", (time.time(), row["session_id"]))
        message = self._message(row)
        self._send_to_history(message)
        return message

    def set_status(self, message_id: int, status: str) -> None:
        with self._lock:
            self._db.execute("UPDATE messages SET status=? WHERE id=?", (status, message_id))

    def messages(self, session_id: str) -> list[StoredMessage]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM messages WHERE session_id=? ORDER BY id", (session_id,)).fetchall()
        return [self._message(r) for r in rows]

    def last_turn(self, session_id: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT COALESCE(MAX(turn), 0) FROM messages WHERE session_id=?", (session_id,)).fetchone()
        return int(row[0])

    def search_messages(self, query: str, limit: int = 20, exclude_session: str | None = None) -> list[StoredMessage]:
        """Messages containing every word of `query` (case-insensitive), newest first; a plain fallback for history search."""
        words = [w for w in query.split() if w]
        if not words:
            return []
        clauses = " AND ".join("content LIKE ?" for _ in words)
        params: list[Any] = [f"%{w}%" for w in words]
        where = clauses
        if exclude_session:
            where += " AND session_id != ?"
            params.append(exclude_session)
        with self._lock:
            rows = self._db.execute(f"SELECT * FROM messages WHERE {where} ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
        return [self._message(r) for r in rows]

    @staticmethod
    def _message(r: sqlite3.Row) -> StoredMessage:
        return StoredMessage(
            r["id"], r["session_id"], r["turn"], r["role"], r["content"], json.loads(r["tool_calls"] or "[]"),
            r["tool_call_id"], r["tool_name"], r["status"], bool(r["is_error"]), r["duration_s"], r["created_at"],
        )

    def _send_to_history(self, message: StoredMessage) -> None:
        if self.history is None:
            return
        entries: list[tuple[str, str]] = []
        if message.role == "user":
            entries.append((USER_TEXT, message.content))
        elif message.role == "assistant":
            entries.append((ASSISTANT_TEXT, message.content))
            for call in message.tool_calls:
                function = call.get("function", {})
                entries.append((TOOL_INPUT, f"{function.get('name', '')} {function.get('arguments', '')}"))
        elif message.role == "tool":
            entries.append((ERROR_TEXT if message.is_error else TOOL_OUTPUT, message.content))
        for kind, text in entries:
            if text.strip():
                self.history.add(message.session_id, message.id, message.role, kind, text)

    # -- usage ----------------------------------------------------------------------------------
    def add_usage(self, row: UsageRow) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO usage(session_id, message_id, model, prompt_tokens, completion_tokens, cost_usd, latency_s, created_at) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (row.session_id, row.message_id, row.model, row.prompt_tokens, row.completion_tokens, row.cost_usd, row.latency_s, time.time()),
            )

    def usage_totals(self, session_id: str) -> tuple[int, int, float]:
        """Prompt tokens, completion tokens and dollars spent in a session."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(prompt_tokens),0), COALESCE(SUM(completion_tokens),0), COALESCE(SUM(cost_usd),0) "
                "FROM usage WHERE session_id=?",
                (session_id,),
            ).fetchone()
        return int(row[0]), int(row[1]), float(row[2])

    def last_prompt_tokens(self, session_id: str) -> int:
        """The context in use after the session's last own call (helpers' calls are stored with no message)."""
        with self._lock:
            row = self._db.execute(
                "SELECT prompt_tokens + completion_tokens FROM usage WHERE session_id=? AND message_id IS NOT NULL "
                "ORDER BY id DESC LIMIT 1", (session_id,)
            ).fetchone()
        return int(row[0]) if row else 0

