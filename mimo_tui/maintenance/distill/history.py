"""Session history as requests: each user message with the tool calls the agent made for it, normalised."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from mimo_tui.sessions import SessionStore

SUBAGENT_MODE = "subagent"


@dataclass(frozen=True)
class Request:
    """One user request of a session and the normalised steps the agent took for it."""

    session_id: str
    text: str
    steps: tuple[str, ...]
    calls: tuple[tuple[str, str], ...]  # (tool name, raw arguments), for the drafted instructions


def step_of(name: str, arguments: str) -> str:
    """A tool call reduced to what repeats across sessions: `bash:pytest`, `edit_file:.toml`, `grep`."""
    try:
        args: Any = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        args = {}
    if not isinstance(args, dict):
        args = {}
    if name == "bash":
        words = str(args.get("command", "")).split()
        words = [w for w in words if "=" not in w or w.startswith("-")] or ["?"]
        program = PurePosixPath(words[0]).name
        sub = words[1] if len(words) > 1 and program in ("git", "uv", "npm", "cargo", "make", "poetry", "docker") \
            and not words[1].startswith("-") else ""
        return f"bash:{program}{' ' + sub if sub else ''}"
    if name in ("read_file", "write_file", "edit_file"):
        suffix = PurePosixPath(str(args.get("path", ""))).suffix
        return f"{name}:{suffix}" if suffix else name
    if name in ("task", "memory", "agent"):
        return f"{name}:{args.get('op', '')}"
    return name


def collapse(steps: list[str]) -> tuple[str, ...]:
    """Runs of the same step count once: reading three files is one `read_file` step."""
    out: list[str] = []
    for step in steps:
        if not out or out[-1] != step:
            out.append(step)
    return tuple(out)


def load_requests(sessions: SessionStore, days: int, limit: int = 1000, now: float | None = None) -> list[Request]:
    """Requests of the sessions people had in the last `days` days (subagents' child sessions left out)."""
    since = (now or time.time()) - days * 86400
    requests: list[Request] = []
    for session in sessions.list(limit):
        if session.mode == SUBAGENT_MODE or session.updated_at < since:
            continue
        requests += requests_of(session.id, sessions.messages(session.id))
    return requests


def requests_of(session_id: str, messages: list[Any]) -> list[Request]:
    requests: list[Request] = []
    text: str | None = None
    calls: list[tuple[str, str]] = []

    def close() -> None:
        if text is not None and text.strip() and not text.startswith("/"):
            steps = collapse([step_of(name, args) for name, args in calls])
            requests.append(Request(session_id, text.strip(), steps, tuple(calls)))

    for message in messages:
        if message.role == "user":
            close()
            text, calls = message.content, []
        elif message.role == "assistant":
            for call in message.tool_calls:
                function = call.get("function", {}) if isinstance(call, dict) else {}
                calls.append((str(function.get("name", "")), str(function.get("arguments", "") or "")))
    close()
    return requests
