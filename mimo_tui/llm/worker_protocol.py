"""The model worker's wire format: one JSON object per line, the gateway's typed events in and out."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .models import ModelSpec
from .types import CallRecord, Completion, GatewayTotals, ModelError, ToolCallRequest, Usage

# A 20k-token answer arrives whole in its `done` line: lines may be long.
MAX_LINE_BYTES = 1 << 28


def dumps(frame: dict[str, Any]) -> bytes:
    return (json.dumps(frame, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def spec_to_wire(spec: ModelSpec) -> dict[str, Any]:
    return asdict(spec)


def spec_from_wire(data: dict[str, Any]) -> ModelSpec:
    return ModelSpec(**data)


def completion_to_wire(completion: Completion) -> dict[str, Any]:
    return asdict(completion)


def completion_from_wire(data: dict[str, Any]) -> Completion:
    return Completion(
        text=data["text"],
        tool_calls=[ToolCallRequest(**call) for call in data["tool_calls"]],
        usage=Usage(**data["usage"]),
        model=data["model"],
        finish_reason=data["finish_reason"],
        latency_s=data["latency_s"],
    )


def record_to_wire(record: CallRecord) -> dict[str, Any]:
    return asdict(record)


def record_from_wire(data: dict[str, Any]) -> CallRecord:
    return CallRecord(**{**data, "usage": Usage(**data["usage"])})


def totals_to_wire(totals: GatewayTotals) -> dict[str, Any]:
    return asdict(totals)


def error_to_wire(err: ModelError) -> dict[str, Any]:
    return {
        "message": err.message,
        "provider_message": err.provider_message,
        "status": err.status,
        "retryable": err.retryable,
        "retry_after": err.retry_after,
        "partial_text": err.partial_text,
        "model": err.model,
    }


def error_from_wire(data: dict[str, Any]) -> ModelError:
    return ModelError(data.pop("message"), **data)
