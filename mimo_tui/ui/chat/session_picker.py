"""A modal list of stored sessions to resume."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class SessionPicker(ModalScreen[str | None]):
    """Pick a session (Enter) or go back (Escape)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Back", id="sessions.back")]
    DEFAULT_CSS = """
    SessionPicker { align: center middle; }
    SessionPicker > Vertical { width: 100; height: 24; border: round $accent; background: $surface; padding: 0 1; }
    SessionPicker OptionList { height: 1fr; }
    """

    def __init__(self, sessions: Sequence[object]) -> None:
        super().__init__()
        self.sessions = list(sessions)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Sessions[/b] — Enter resumes, Esc goes back")
            options = []
            for session in self.sessions:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(getattr(session, "updated_at", 0)))
                title = getattr(session, "title", "") or "(untitled)"
                label = f"{when}  {getattr(session, 'message_count', 0):>4} msgs  {getattr(session, 'model', '')}  {title}"
                options.append(Option(label, id=getattr(session, "id", "")))
            yield OptionList(*options, id="session-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
