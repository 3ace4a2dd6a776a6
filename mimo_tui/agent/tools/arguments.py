"""Reading tool arguments with messages a model can act on."""

from __future__ import annotations

from typing import Any


class ToolInputError(ValueError):
    """The model passed bad arguments; the message says which and what was expected."""


def text_arg(args: dict[str, Any], key: str, *, required: bool = True, default: str = "") -> str:
    value = args.get(key)
    if value is None:
        if required:
            raise ToolInputError(f"missing required argument {key!r}")
        return default
    if not isinstance(value, str):
        raise ToolInputError(f"argument {key!r} must be a string, got {type(value).__name__}")
    return value


def int_arg(args: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = args.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ToolInputError(f"argument {key!r} must be an integer, got {value!r}")
    try:
        return int(value)
    except ValueError as exc:
        raise ToolInputError(f"argument {key!r} must be an integer, got {value!r}") from exc


def bool_arg(args: dict[str, Any], key: str, default: bool = False) -> bool:
    value = args.get(key, default)
    if not isinstance(value, bool):
        raise ToolInputError(f"argument {key!r} must be true or false, got {value!r}")
    return value


def schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
