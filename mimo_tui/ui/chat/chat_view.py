"""What the stream renderer and the slash commands ask of the chat pane (the pane is the one implementation)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mimo_tui.agent.loop import AgentSession
    from mimo_tui.services import Services
    from mimo_tui.ui.chat.conversation import Conversation


class ChatView(Protocol):
    """The chat pane as its helpers see it: the services, the current agent and the conversation to draw into."""

    services: Services

    @property
    def agent(self) -> AgentSession | None: ...

    @property
    def conversation(self) -> Conversation: ...

    def notify(self, message: str, **kwargs: Any) -> None: ...

    def set_timer(self, delay: float, callback: Callable[[], Any]) -> Any: ...

    def call_later(self, callback: Callable[[], Any]) -> Any: ...

    def update_status(self) -> None: ...

    def refocus_prompt(self) -> None: ...

    def start_session(self, resume: str | None = None, model: str | None = None, mode: str | None = None) -> Awaitable[None]: ...

    def switch_model(self, name: str) -> Awaitable[None]: ...

    def show_pane(self, pane_id: str) -> Awaitable[None]: ...

    def open_session_picker(self) -> None: ...

    def run_mcp_command(self, argument: str) -> Awaitable[None]: ...

    def add_task(self, title: str) -> Any: ...
