"""What every view of the current session's tasks shares: it follows the session and that session's task changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from mimo_tui.ui.chat.messages import SessionSwitched

if TYPE_CHECKING:
    from mimo_tui.services import Services


class FollowsSessionTasks:
    """Mixed into a widget: `session_id` tracks the services' current session; `tasks_changed()` is posted on changes."""

    services: Services
    session_id: str | None = None
    _unsubscribe: Callable[[], None] | None = None
    _unfollow: Callable[[], None] | None = None

    # Provided by the widget: the message it gets when a task of its session changes, and what it does once
    # `session_id` names a new session (show its tasks).
    tasks_changed: Callable[[], Message]
    session_followed: Callable[[], None]

    def on_mount(self) -> None:
        self._unfollow = self.services.follow_session(lambda session_id: self.post_message(SessionSwitched(session_id)))  # type: ignore[attr-defined]
        if self.services.session_id is not None:
            self._follow(self.services.session_id)

    def on_unmount(self) -> None:
        if self._unfollow is not None:
            self._unfollow()
        if self._unsubscribe is not None:
            self._unsubscribe()

    def on_session_switched(self, message: SessionSwitched) -> None:
        self._follow(message.session_id)

    def _follow(self, session_id: str) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.session_id = session_id
        self._unsubscribe = self.services.tasks.subscribe(lambda change: self.post_message(self.tasks_changed()))  # type: ignore[attr-defined]
        self.session_followed()
