"""Model gateway: litellm (imported lazily), offline models, token counting, cost and a response cache."""

from __future__ import annotations

from .cache import ResponseCache
from .gateway import Gateway
from .models import ModelSpec, resolve_model
from .offline import OfflineReply, offline_model_names, register_offline_model
from .tokens import count_message_tokens, count_tokens
from .types import (
    CallRecord,
    Completion,
    GatewayTotals,
    ModelError,
    StreamDone,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallRequest,
    Usage,
)

__all__ = [
    "CallRecord",
    "Completion",
    "Gateway",
    "GatewayTotals",
    "ModelError",
    "ModelSpec",
    "OfflineReply",
    "ResponseCache",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallRequest",
    "Usage",
    "count_message_tokens",
    "count_tokens",
    "offline_model_names",
    "register_offline_model",
    "resolve_model",
]
