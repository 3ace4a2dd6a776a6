"""When automatic maintenance is due: the last commit by its role is old enough (or there is none)."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.store import StoreError, VersionedStore


def last_run(store: VersionedStore, role: str) -> int | None:
    """The time of the newest commit authored by `role`, or None when it never committed."""
    try:
        proc = store.git.run("log", "-1", f"--author=^{role} <", "--format=%at", check=False)
    except StoreError:
        return None
    out = proc.stdout.strip()
    return int(out) if proc.returncode == 0 and out.isdigit() else None


def is_due(store: VersionedStore, role: str, every_days: int, now: float) -> bool:
    last = last_run(store, role)
    return last is None or now - last >= every_days * 86400


def _stamp_file(stamps: Path, role: str) -> Path:
    return stamps / f"{role}.last"


def last_stamp(stamps: Path, role: str) -> float | None:
    """When a scheduled pass that commits nothing (a distill with no proposal, a training start) last ran."""
    try:
        return float(_stamp_file(stamps, role).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def stamp(stamps: Path, role: str, now: float) -> None:
    stamps.mkdir(parents=True, exist_ok=True)
    _stamp_file(stamps, role).write_text(f"{now:.0f}\n", encoding="utf-8")


def is_due_stamped(stamps: Path, role: str, every_days: float, now: float) -> bool:
    """Due when no pass of `role` was stamped in the last `every_days`. (Distill's commits are no measure: reviewing
    a dataset commits as distill too, and a mining pass that finds nothing commits nothing.)"""
    last = last_stamp(stamps, role)
    return last is None or now - last >= every_days * 86400
