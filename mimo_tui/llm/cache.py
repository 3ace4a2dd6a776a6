"""On-disk cache of model completions, keyed by everything that determines a reply plus a sample index."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from mimo_tui.atomic_file import atomic_write

from .types import Completion, ToolCallRequest, Usage

_FORMAT = 1


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


class ResponseCache:
    """Completions stored as one JSON file each under directory, written atomically."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    @staticmethod
    def key(model: str, messages: list[dict], tools: list[dict] | None, params: dict[str, Any], sample_index: int) -> str:
        """The sha256 hex key of one request; a different sample_index gives a different key."""
        payload = {"v": _FORMAT, "model": model, "messages": messages, "tools": tools, "params": params, "sample": sample_index}
        return hashlib.sha256(_canonical(payload).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        """Return the cached completion for key, or None when missing or unreadable."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
            usage = Usage(**data["usage"])
            calls = [ToolCallRequest(**call) for call in data["tool_calls"]]
            return Completion(
                text=data["text"],
                tool_calls=calls,
                usage=usage,
                model=data["model"],
                finish_reason=data["finish_reason"],
                latency_s=data["latency_s"],
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            # A torn or foreign file is a miss; the next put replaces it.
            return None

    def put(self, key: str, completion: Completion) -> None:
        """Store completion under key (temp file, fsync, rename)."""
        atomic_write(self._path(key), _canonical(asdict(completion)).encode())

    def lookup(self, model: str, messages: list[dict], tools: list[dict] | None, params: dict[str, Any],
               sample_index: int) -> tuple[str, Completion | None]:
        """The key of one request and its cached completion (its latency that of this lookup), or None."""
        started = time.perf_counter()
        key = self.key(model, messages, tools, params, sample_index)
        hit = self.get(key)
        return key, None if hit is None else replace(hit, latency_s=time.perf_counter() - started)
