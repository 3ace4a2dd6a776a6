"""Incremental reader of a run's events.jsonl: new complete lines since the last read, bad lines reported."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# An unfinished last line is only called torn once the file has been quiet this long.
TORN_AFTER_S = 1.5


@dataclass
class TailBatch:
    """What one read found: parsed events (with their line numbers), problems, and whether to start over."""

    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    reset: bool = False


class EventTail:
    """Follows one events.jsonl across reads; survives a missing file, truncation and torn lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line_no = 0
        self.pending = b""
        self._pending_since = 0.0
        self._torn_reported = False

    def read(self) -> TailBatch:
        batch = TailBatch()
        try:
            size = self.path.stat().st_size
        except OSError:
            return batch
        if size < self.offset:
            # The file was replaced or truncated: read it again from the start.
            self.offset, self.line_no, self.pending, self._torn_reported = 0, 0, b"", False
            batch.reset = True
        if size > self.offset:
            try:
                with open(self.path, "rb") as handle:
                    handle.seek(self.offset)
                    chunk = handle.read(size - self.offset)
            except OSError as exc:
                batch.problems.append(f"cannot read {self.path.name}: {exc}")
                return batch
            self.offset += len(chunk)
            data = self.pending + chunk
            *lines, self.pending = data.split(b"\n")
            self._pending_since = time.monotonic()
            self._torn_reported = False
            for raw in lines:
                self.line_no += 1
                self._parse(raw, batch)
        if self.pending and not self._torn_reported and time.monotonic() - self._pending_since > TORN_AFTER_S:
            self._torn_reported = True
            batch.problems.append(f"events.jsonl line {self.line_no + 1} is incomplete ({len(self.pending)} bytes, "
                                  "no newline): the writer may have stopped mid-line")
        return batch

    def _parse(self, raw: bytes, batch: TailBatch) -> None:
        if not raw.strip():
            return
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            snippet = raw[:60].decode("utf-8", "replace")
            batch.problems.append(f"events.jsonl line {self.line_no} is not valid JSON, skipped: {snippet}")
            return
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            batch.problems.append(f"events.jsonl line {self.line_no} is not an event object, skipped")
            return
        batch.events.append((self.line_no, record))
