"""Sessions: the conversation store in `.mimo/state.db`."""

from mimo_tui.sessions.history_sink import HistorySink
from mimo_tui.sessions.records import COMPLETE, FAILED, INTERRUPTED, Session, StoredMessage, UsageRow
from mimo_tui.sessions.store import SessionStore, new_session_id

__all__ = [
    "COMPLETE", "FAILED", "INTERRUPTED", "HistorySink", "Session", "SessionStore", "StoredMessage", "UsageRow",
    "new_session_id",
]
