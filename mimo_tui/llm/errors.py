"""Turns litellm and transport exceptions into ModelError with the provider's own message."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from .types import ModelError

_RETRYABLE_STATUS = {408, 409, 425, 429}
_RETRYABLE_NAMES = {
    "Timeout",
    "APITimeoutError",
    "APIConnectionError",
    "ServiceUnavailableError",
    "InternalServerError",
    "RateLimitError",
    "MidStreamFallbackError",
    "RemoteProtocolError",
    "ReadError",
    "ConnectError",
    "ReadTimeout",
    "ConnectTimeout",
    "ClientPayloadError",
    "ServerDisconnectedError",
    "ClientConnectionError",
    "TransferEncodingError",
}
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*|\w+Error:\s*|\w+Exception\s*-\s*)+")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 8:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _body_message(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return None
    error = body.get("error", body)
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return error["message"]
    if isinstance(error, str):
        return error
    return None


def provider_message(exc: BaseException) -> str:
    """The provider's own error text, without litellm's class-name prefixes."""
    for item in _chain(exc):
        message = _body_message(getattr(item, "body", None))
        if message:
            return message
    text = str(getattr(exc, "message", None) or exc)
    text = text.split(" Original exception:", 1)[0]
    stripped = _PREFIX.sub("", text).strip()
    return stripped or text.strip() or type(exc).__name__


def _headers(exc: BaseException) -> Iterator[Mapping[str, str]]:
    for item in _chain(exc):
        headers = getattr(item, "litellm_response_headers", None)
        if headers:
            yield headers
        response = getattr(item, "response", None)
        response_headers = getattr(response, "headers", None)
        if response_headers:
            yield response_headers


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from retry-after-ms or Retry-After (seconds or an HTTP date)."""
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def retry_after_of(exc: BaseException) -> float | None:
    """The wait a provider asked for, from the exception's headers or attributes."""
    for item in _chain(exc):
        value = getattr(item, "retry_after", None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return max(0.0, float(value))
    for headers in _headers(exc):
        parsed = parse_retry_after(headers)
        if parsed is not None:
            return parsed
    return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of the failure, when one is known."""
    for item in _chain(exc):
        status = getattr(item, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def to_model_error(exc: BaseException, model: str, *, offline: bool = False) -> ModelError:
    """Wrap exc as a ModelError saying whether a retry may help."""
    if isinstance(exc, ModelError):
        return exc
    status = status_of(exc)
    names = {type(item).__name__ for item in _chain(exc)}
    if offline:
        retryable = status == 429
    else:
        retryable = bool(names & _RETRYABLE_NAMES) or status in _RETRYABLE_STATUS or (status is not None and status >= 500)
        if status is not None and 400 <= status < 500 and status not in _RETRYABLE_STATUS:
            retryable = False
    message = provider_message(exc)
    return ModelError(
        f"{model}: {message}",
        provider_message=message,
        status=status,
        retryable=retryable,
        retry_after=retry_after_of(exc),
        model=model,
    )
