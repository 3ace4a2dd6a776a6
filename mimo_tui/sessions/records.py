"""Records of the session store: sessions, stored messages and usage rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Message statuses: a finished message, one cut by a crash or a cancel, one ended by a provider error.
COMPLETE = "complete"
INTERRUPTED = "interrupted"
FAILED = "error"


@dataclass(frozen=True)
class Session:
    """One conversation with the agent."""

    id: str
    title: str
    model: str
    mode: str
    created_at: float
    updated_at: float
    message_count: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True)
class StoredMessage:
    """One chat message as stored: role, text, tool calls asked for, or a tool's result."""

    id: int
    session_id: str
    turn: int
    role: str
    content: str
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_call_id: str | None = None
    tool_name: str | None = None
    status: str = COMPLETE
    is_error: bool = False
    duration_s: float | None = None
    created_at: float = 0.0

    def as_chat(self) -> dict[str, Any]:
        """The message in the OpenAI chat format sent to models."""
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.role == "assistant" and self.tool_calls:
            message["tool_calls"] = self.tool_calls
            if not self.content:
                message["content"] = None
        if self.role == "tool":
            message["tool_call_id"] = self.tool_call_id or ""
            if self.tool_name:
                message["name"] = self.tool_name
        return message


@dataclass(frozen=True)
class UsageRow:
    """Tokens and cost of one model call."""

    session_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    message_id: int | None = None
