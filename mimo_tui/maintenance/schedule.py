"""When automatic maintenance is due: the last commit by its role is old enough (or there is none)."""

from __future__ import annotations

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
