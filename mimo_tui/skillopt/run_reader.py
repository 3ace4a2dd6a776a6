"""Reading a run folder from another process: its events as they are appended, its status, summary and skill diff.

The trainer writes `.mimo/runs/<id>/` (run_folder.py); the dashboard and `mimo skill runs` read it through here,
so the folder's layout (file names, the `skill_v0001.md` spelling, what "finished" means) is known in one place.
"""

from __future__ import annotations

import difflib
import json
import time
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.events import EVENT_TYPES, event_from_dict
from mimo_tui.skillopt.run_process import process_state
from mimo_tui.skillopt.run_folder import (
    SKILLS_FOLDER, RunInfo, list_runs, read_version_files, skill_version_file, skill_version_path,
)

EVENTS_FILE = "events.jsonl"
SUMMARY_FILE = "summary.json"
CONFIG_FILE = "config.json"
# An unfinished last line is only called torn once the file has been quiet this long.
TORN_AFTER_S = 1.5
# A run without summary.json whose event log has been quiet this long is taken as crashed or killed.
STALE_S = 120.0
# Shown when the run's recorded trainer process no longer runs (killed with kill -9, crashed): RunList marks it.
PROCESS_GONE_NOTE = "process gone: the trainer was killed or crashed before it finished; r resumes"


@dataclass(frozen=True)
class RunEvent:
    """One line of events.jsonl: its number, the record as written, and the typed event (None for a type this
    version does not know, which a newer trainer may write)."""

    line: int
    record: dict[str, Any]
    event: Any | None

    @property
    def type(self) -> str:
        return str(self.record.get("type"))


@dataclass
class TailBatch:
    """What one read found: events (with their line numbers), problems, and whether to start over."""

    events: list[RunEvent] = field(default_factory=list)
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
            batch.problems.append(f"{EVENTS_FILE} line {self.line_no + 1} is incomplete ({len(self.pending)} bytes, "
                                  "no newline): the writer may have stopped mid-line")
        return batch

    def _parse(self, raw: bytes, batch: TailBatch) -> None:
        if not raw.strip():
            return
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            snippet = raw[:60].decode("utf-8", "replace")
            batch.problems.append(f"{EVENTS_FILE} line {self.line_no} is not valid JSON, skipped: {snippet}")
            return
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            batch.problems.append(f"{EVENTS_FILE} line {self.line_no} is not an event object, skipped")
            return
        try:
            event = event_from_dict(record)
        except TypeError as exc:
            batch.problems.append(f"{EVENTS_FILE} line {self.line_no}: {record['type']} event is malformed, skipped "
                                  f"({_missing_fields(record, exc)})")
            return
        batch.events.append(RunEvent(self.line_no, record, event))


def _missing_fields(record: dict[str, Any], exc: TypeError) -> str:
    """Which fields the event lacks, by name (else the error's own words)."""
    cls = EVENT_TYPES.get(str(record.get("type")))
    if cls is not None:
        missing = [f.name for f in fields(cls) if f.name not in record
                   and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            return "no " + ", ".join(missing)
    return str(exc)


def read_run_events(path: Path) -> TailBatch:
    """Every event of one events.jsonl at once, typed (unknown kinds kept with `event` None, a bad line a problem)."""
    tail = EventTail(path)
    batch = tail.read()
    if tail.pending.strip():
        tail.line_no += 1
        tail._parse(tail.pending, batch)
    return batch


@dataclass
class RunUpdate:
    """What changed in a followed run since the last poll."""

    batch: TailBatch
    summary: dict[str, Any] | None = None
    diff: str | None = None


class RunFollower:
    """Polls one run folder: new events, summary.json once the run's last segment finished, and the skill diff
    whenever a new best version is accepted."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.tail = EventTail(run_dir / EVENTS_FILE)
        self._best_version, self._diffed_version = 1, 0
        self._finished, self._summary_mtime, self._missing_reported = False, 0.0, False
        self._first = True

    def poll(self) -> RunUpdate | None:
        """The news since the last poll, or None when there is none (the first poll always answers)."""
        batch = self.tail.read()
        if batch.reset:
            self._best_version, self._diffed_version = 1, 0
            self._finished, self._summary_mtime, self._missing_reported = False, 0.0, False
        for item in batch.events:
            if item.type == "run_started":
                self._finished = False
            elif item.type == "run_finished":
                self._finished = True
            elif item.type == "skill_accepted" and isinstance(item.record.get("version"), int):
                self._best_version = item.record["version"]
        summary, missing = self._read_summary()
        if missing and not self._missing_reported:
            self._missing_reported = True
            batch.problems.append(missing)
        diff = None
        if self._best_version != self._diffed_version:
            diff = skill_diff(self.run_dir, self._best_version)
            self._diffed_version = self._best_version
        first, self._first = self._first, False
        if first or batch.events or batch.problems or batch.reset or summary is not None or diff is not None:
            return RunUpdate(batch, summary, diff)
        return None

    def _read_summary(self) -> tuple[dict[str, Any] | None, str | None]:
        """summary.json when it is new since the last read and the run's last segment has finished."""
        path = self.run_dir / SUMMARY_FILE
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return None, (f"{SUMMARY_FILE} is missing although the run finished: figures below come from {EVENTS_FILE}"
                          if self._finished else None)
        if mtime == self._summary_mtime or not self._finished:
            return None, None
        self._summary_mtime = mtime
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(summary, dict):
                raise ValueError("not an object")
        except (OSError, ValueError) as exc:
            return None, f"{SUMMARY_FILE} cannot be read ({exc}): figures below come from {EVENTS_FILE}"
        best = ((summary.get("val") or {}).get("best") or {}).get("version")
        if isinstance(best, int):
            self._best_version = best
        return summary, None


@dataclass(frozen=True)
class RunStatus:
    """A listed run as the dashboard shows it: running, finished or stopped, and why when that is a guess."""

    run_id: str
    skill: str
    status: str
    best_val: float | None
    final_test: float | None
    note: str = ""
    decision: str = ""  # "adopted v0002 (1a2b3c4d)", "adopted v0002 edits 1 (…)", "discarded", or "" while undecided


def decision_label(run_dir: Path) -> str:
    """What the user decided about the run's proposal (adoption.json), in the words the dashboard shows."""
    from mimo_tui.skillopt.staging import adoption_status

    decided = adoption_status(run_dir) or {}
    if decided.get("status") == "discarded":
        return "discarded"
    if decided.get("status") != "adopted":
        return ""
    try:
        version = f"v{int(decided.get('version') or 0):04d}"
    except (TypeError, ValueError):
        version = "v?"
    edits = decided.get("edits")
    picked = f" edits {','.join(map(str, edits))}" if isinstance(edits, list) and edits else ""
    commit = str(decided.get("commit") or "")[:8] or "no commit: the live skill held it"
    return f"adopted {version}{picked} ({commit})"


def run_statuses(runs_dir: Path, live: set[str], now: float | None = None) -> list[RunStatus]:
    """Every run in `runs_dir`, newest first; `live` names runs whose trainer process this app is watching."""
    return [run_status(info, live, now) for info in list_runs(runs_dir)]


def run_status(info: RunInfo, live: set[str], now: float | None = None) -> RunStatus:
    """A run_finished last event means the last segment ended; a quiet log without one means it died."""
    events = info.path / EVENTS_FILE
    events_mtime = _mtime(events)
    last = last_event(events)
    status, note = info.status, ""
    if info.run_id in live:
        status = "running"
    elif last.get("type") == "run_finished":
        status = "finished" if last.get("stop_reason") == "finished" else "stopped"
    elif (process := process_state(info.path)) is not None:
        status, note = ("running", "") if process == "alive" else ("stopped", PROCESS_GONE_NOTE)
    elif events_mtime is not None and (now if now is not None else time.time()) - events_mtime < STALE_S:
        status = "running"
    else:
        status = "stopped"
        note = "the event log ends without run_finished: the process ended early (crashed or killed?); r resumes"
    return RunStatus(info.run_id, info.skill, status, info.best_val, info.final_test, note, decision_label(info.path))


def last_event(path: Path) -> dict[str, Any]:
    """The last complete line of an event log, parsed; {} when there is none or it is not JSON."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 65536))
            tail = handle.read()
    except OSError:
        return {}
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    try:
        event = json.loads(lines[-1].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def skill_diff(run_dir: Path, best_version: int) -> str:
    """Unified diff of the starting skill (v0001) against the best version's file."""
    if best_version <= 1:
        return ""
    try:
        start = skill_version_path(run_dir, 1).read_text(encoding="utf-8")
        best = skill_version_path(run_dir, best_version).read_text(encoding="utf-8")
    except OSError as exc:
        return f"(cannot read the skill versions: {exc})"
    lines = difflib.unified_diff(start.splitlines(keepends=True), best.splitlines(keepends=True),
                                 "v0001 (start)", f"v{best_version:04d} (best)")
    return "".join(lines) or "(no difference)"


def run_versions(run_dir: Path) -> list[int]:
    """The skill versions a run folder holds, in order."""
    found = []
    for path in (run_dir / SKILLS_FOLDER).glob("skill_v*.md"):
        number = path.stem.removeprefix("skill_v")
        if number.isdigit() and path.name == skill_version_file(int(number)):
            found.append(int(number))
    return sorted(found)


def version_diff(run_dir: Path, old: int, new: int) -> str:
    """Unified diff over every file (SKILL.md, scripts/, references/) of two skill versions of a run; a missing
    version is said, not raised."""
    files = []
    for version in (old, new):
        try:
            files.append(read_version_files(run_dir, version))
        except OSError:
            have = ", ".join(f"v{v:04d}" for v in run_versions(run_dir)) or "none"
            return f"(version v{version:04d} is not in {run_dir.name}/{SKILLS_FOLDER}/; the run has {have})"
    lines: list[str] = []
    for rel in sorted(set(files[0]) | set(files[1]), key=lambda r: (r != "SKILL.md", r)):
        lines += difflib.unified_diff(files[0].get(rel, "").splitlines(keepends=True),
                                      files[1].get(rel, "").splitlines(keepends=True),
                                      f"v{old:04d}/{rel}", f"v{new:04d}/{rel}")
    return "".join(lines) or f"(v{old:04d} and v{new:04d} are the same text)"


def find_new_run(runs_dir: Path, known: frozenset[str], skill: str) -> str | None:
    """The run folder of `skill` that appeared since `known` was listed (a trainer process just created it)."""
    if not runs_dir.is_dir():
        return None
    for folder in sorted(runs_dir.iterdir()):
        if folder.name in known or not (folder / CONFIG_FILE).exists():
            continue
        try:
            config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if config.get("skill") == skill:
            return folder.name
    return None


def known_runs(runs_dir: Path) -> frozenset[str]:
    """The run folders there are now (to tell a new one apart later)."""
    return frozenset(p.name for p in runs_dir.iterdir()) if runs_dir.is_dir() else frozenset()


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
