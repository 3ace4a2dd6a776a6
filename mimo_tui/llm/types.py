"""Records the model gateway returns: completions, usage, stream events and errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolCallRequest:
    """A tool call the model asked for; arguments is the raw JSON string it produced."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Usage:
    """Tokens and dollars spent by one call."""

    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class Completion:
    """A finished model reply."""

    text: str
    tool_calls: list[ToolCallRequest]
    usage: Usage
    model: str
    finish_reason: str
    latency_s: float


@dataclass(frozen=True)
class TextDelta:
    """A piece of streamed reply text."""

    text: str


@dataclass(frozen=True)
class ToolCallDelta:
    """A piece of a streamed tool call; id and name arrive once, arguments in pieces."""

    index: int
    id: str | None
    name: str | None
    arguments_delta: str


@dataclass(frozen=True)
class StreamDone:
    """The end of a stream, with the assembled completion."""

    completion: Completion


StreamEvent = TextDelta | ToolCallDelta | StreamDone


@dataclass(frozen=True)
class CallRecord:
    """One call as reported to the gateway's on_call hook (cache hits included, marked cached)."""

    model: str
    usage: Usage
    latency_s: float
    attempts: int
    cached: bool
    streamed: bool


@dataclass
class GatewayTotals:
    """Running totals of a gateway: provider calls, cache hits, retries, tokens and cost."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class ModelError(Exception):
    """A model call failed; provider_message is the provider's own text."""

    def __init__(
        self,
        message: str,
        *,
        provider_message: str | None = None,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        partial_text: str = "",
        model: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider_message = provider_message if provider_message is not None else message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        self.partial_text = partial_text
        self.model = model

    def __str__(self) -> str:
        return self.message


__all__ = [
    "CallRecord",
    "Completion",
    "GatewayTotals",
    "ModelError",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallRequest",
    "Usage",
]
