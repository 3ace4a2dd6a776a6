"""Events the agent loop reports to its subscriber (the TUI or the headless printer)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mimo_tui.token_figures import format_tokens

# How a turn ended.
TURN_DONE = "done"
TURN_CANCELLED = "cancelled"
TURN_FAILED = "error"
TURN_INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class TurnStarted:
    """A user message was stored and the model is being asked."""

    session_id: str
    turn: int
    user_text: str


@dataclass(frozen=True)
class TextDeltaEvent:
    """A piece of the assistant's streamed text."""

    turn: int
    text: str


@dataclass(frozen=True)
class AssistantMessageDone:
    """One model reply of the turn is complete (its text; tool calls follow as their own events)."""

    turn: int
    text: str
    message_id: int


@dataclass(frozen=True)
class ToolCallStarted:
    """The model asked for a tool; it is about to run (after any permission ask)."""

    turn: int
    call_id: str
    tool: str
    arguments: dict[str, Any]
    raw_arguments: str


@dataclass(frozen=True)
class ToolCallFinished:
    """A tool call ended: its result as the model sees it, duration and status (ok, error, denied)."""

    turn: int
    call_id: str
    tool: str
    content: str
    status: str
    duration_s: float
    summary: str = ""
    write_failed: bool = False


@dataclass(frozen=True)
class PermissionRequest:
    """The loop waits for the user: resolve `answer` with "once", "always" or "reject"."""

    turn: int
    call_id: str
    tool: str
    subject: str
    arguments: dict[str, Any]
    preview: str
    answer: asyncio.Future[str] = field(compare=False, hash=False)


@dataclass(frozen=True)
class UsageReported:
    """Tokens and cost of one model call, plus the session totals and the context in use."""

    turn: int
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    session_cost_usd: float
    context_tokens: int
    context_window: int


@dataclass(frozen=True)
class HelperSpent:
    """A model call made for the session by a helper (checkpoint writer, subagent, summariser, goal judge):
    counted in the session's spend, not in its context."""

    helper: str
    model: str
    cost_usd: float
    session_cost_usd: float


@dataclass(frozen=True)
class ModelFailed:
    """The provider failed; `provider_message` is its own text; the turn can be retried."""

    turn: int
    message: str
    provider_message: str
    status: int | None
    partial_text: str = ""


@dataclass(frozen=True)
class TurnEnded:
    """The turn is over: done, cancelled, error or interrupted."""

    turn: int
    status: str
    text: str = ""


@dataclass(frozen=True)
class ModeChanged:
    """The session's mode changed (build or plan)."""

    mode: str


@dataclass(frozen=True)
class CheckpointStarted:
    """The background checkpoint writer began a run (`reason`: the threshold crossed, or "on demand")."""

    session_id: str
    reason: str


@dataclass(frozen=True)
class CheckpointFinished:
    """A checkpoint writer run ended: "done" (committed), "failed" or "stopped" (3 failures in a row; no more runs).

    `refused` lists writes the writer asked for outside its session's memory files; none was made.
    """

    session_id: str
    status: str
    message: str
    written_at: float = 0.0
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class RebuildWaiting:
    """A context rebuild waits (at most `timeout_s`) for the checkpoint writer, so the request shows it is not stuck."""

    session_id: str
    timeout_s: float


@dataclass(frozen=True)
class ContextRebuilt:
    """The context sent to the model was rebuilt: memory injected, then a verbatim tail of the conversation.

    `from_checkpoint` is False when a summarising compaction stood in for a missing checkpoint.
    """

    session_id: str
    reason: str
    from_checkpoint: bool
    tokens_before: int
    tokens_after: int
    injected: str
    tail_messages: int


@dataclass(frozen=True)
class ContextStatus:
    """How full the context is against the model's thresholds, and what the checkpoint writer is doing."""

    tokens: int
    window: int
    usable: int
    first_threshold: int | None
    top_threshold: int
    writer_running: bool
    last_checkpoint_at: float
    writer_stopped: bool = False

    @property
    def warning(self) -> str:
        """What the status line says beside the context figure ("" below the first threshold)."""
        if self.writer_stopped:
            return "checkpoint writer stopped"
        if self.tokens > self.usable:
            return "over the window: rebuild next"
        if self.first_threshold is not None and self.tokens >= self.first_threshold:
            return "rebuild next" if self.tokens >= self.top_threshold else f"rebuild at {format_tokens(self.top_threshold)}"
        return ""


AgentEvent = (
    TurnStarted | TextDeltaEvent | AssistantMessageDone | ToolCallStarted | ToolCallFinished | PermissionRequest
    | UsageReported | HelperSpent | ModelFailed | TurnEnded | ModeChanged | CheckpointStarted | CheckpointFinished
    | RebuildWaiting | ContextRebuilt | ContextStatus
)
