"""A run's folder `.mimo/runs/<id>/`: config, events, skill versions, step records, resumable state, summary."""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.skillopt.events import event_to_dict
from mimo_tui.skillopt.skill_files import SKILL_FILE, pack, unpack
from mimo_tui.atomic_file import atomic_write

# Bulk run artefacts stay out of the memory repo's history; accepted skills are committed as SKILL.md.
RUN_GITIGNORE = "*\n"


SKILLS_FOLDER = "skills"


def skill_version_file(version: int) -> str:
    """The file name of skill version `version` inside a run's skills/ folder (the one place it is spelled)."""
    return f"skill_v{version:04d}.md"


def skill_version_path(run_dir: Path, version: int) -> Path:
    return run_dir / SKILLS_FOLDER / skill_version_file(version)


def version_files_dir(run_dir: Path, version: int) -> Path:
    """Where a version keeps the skill's other files (scripts/, references/); SKILL.md is skill_version_path."""
    return run_dir / SKILLS_FOLDER / f"v{version:04d}"


def read_version_files(run_dir: Path, version: int) -> dict[str, str]:
    """Every file of one version: SKILL.md and the files under its version folder (older runs: SKILL.md only)."""
    files = {SKILL_FILE: skill_version_path(run_dir, version).read_text(encoding="utf-8")}
    folder = version_files_dir(run_dir, version)
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            files[path.relative_to(folder).as_posix()] = path.read_text(encoding="utf-8")
    return files


def state_after_step(step: int) -> str:
    """Where a run keeps its state as it was right after a step (step 0: after the baseline); a branch starts there."""
    return f"states/after_step_{step:04d}.json"


def _dump(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")


class RunFolder:
    """Writes one run's files; events.jsonl is append-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @property
    def run_id(self) -> str:
        return self.path.name

    @classmethod
    def create(cls, runs_dir: Path, skill: str) -> RunFolder:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{skill}"
        path = runs_dir / base
        n = 2
        while path.exists():
            path = runs_dir / f"{base}-{n}"
            n += 1
        path.mkdir(parents=True)
        (path / ".gitignore").write_text(RUN_GITIGNORE, encoding="utf-8")
        return cls(path)

    @property
    def cache_dir(self) -> Path:
        return self.path / "cache"

    def write_json(self, relpath: str, data: Any) -> None:
        atomic_write(self.path / relpath, _dump(data))

    def read_json(self, relpath: str) -> Any:
        return json.loads((self.path / relpath).read_text(encoding="utf-8"))

    def write_jsonl(self, relpath: str, rows: list[Any]) -> None:
        """One JSON object per line, written atomically (a redone step replaces its file)."""
        text = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
        atomic_write(self.path / relpath, text.encode("utf-8"))

    def append_event(self, event: Any) -> dict[str, Any]:
        record = event_to_dict(event)
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        # Written per event (a crash of the process loses nothing); fsync is left to step boundaries.
        with self._lock, open(self.path / "events.jsonl", "a", encoding="utf-8") as handle:
            handle.write(line)
        return record

    def sync(self) -> None:
        """fsync the event log (called at step boundaries)."""
        with self._lock:
            try:
                fd = os.open(self.path / "events.jsonl", os.O_RDONLY)
            except FileNotFoundError:
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def write_skill_version(self, version: int, text: str) -> Path:
        """Store a version (a packed text, see skill_files): SKILL.md as skill_vNNNN.md, other files beside it."""
        files = unpack(text)
        path = skill_version_path(self.path, version)
        atomic_write(path, files.pop(SKILL_FILE).encode("utf-8"))
        for rel, content in files.items():
            atomic_write(version_files_dir(self.path, version) / rel, content.encode("utf-8"))
        return path

    def read_skill_version(self, version: int) -> str:
        """A version as the trainer's one packed text."""
        return pack(read_version_files(self.path, version))

    def write_step(self, step: int, record: dict[str, Any], extras: dict[str, Any] | None = None) -> None:
        folder = f"steps/step_{step:04d}"
        self.write_json(f"{folder}/record.json", record)
        for name, data in (extras or {}).items():
            self.write_json(f"{folder}/{name}.json", data)


@dataclass
class RunInfo:
    """What the UI and `mimo skill runs` show of a run."""

    run_id: str
    path: Path
    skill: str
    status: str
    stop_reason: str | None
    started: float | None
    steps: int
    accepted: int
    baseline_test: float | None
    final_test: float | None
    best_val: float | None
    config: dict[str, Any] = field(default_factory=dict)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_events(run_dir: Path) -> list[dict[str, Any]]:
    """Every event of a run as dicts; a torn last line (crash mid-write) is ignored."""
    events = []
    try:
        lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def load_run(run_dir: Path) -> RunInfo:
    """Read a run folder's config, state and summary (any of them may be missing)."""
    config = _read(run_dir / "config.json") or {}
    state = _read(run_dir / "runtime_state.json") or {}
    summary = _read(run_dir / "summary.json") or {}
    test = summary.get("test", {}) if isinstance(summary, dict) else {}
    if summary:
        status = "finished" if summary.get("completed") else "stopped"
    else:
        status = "running or crashed" if state else "new"
    return RunInfo(
        run_id=run_dir.name,
        path=run_dir,
        skill=str(config.get("skill", "?")),
        status=status,
        stop_reason=summary.get("stop_reason") or state.get("stop_reason"),
        started=config.get("created"),
        steps=int(state.get("global_step", 0)),
        accepted=len(state.get("accepted", [])),
        baseline_test=(test.get("baseline") or {}).get("score"),
        final_test=(test.get("final") or {}).get("score"),
        best_val=state.get("best_val"),
        config=config,
    )


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """All runs in `runs_dir`, newest first."""
    if not runs_dir.is_dir():
        return []
    runs = [load_run(p) for p in runs_dir.iterdir() if p.is_dir() and (p / "config.json").exists()]
    return sorted(runs, key=lambda r: (r.started or 0, r.run_id), reverse=True)
