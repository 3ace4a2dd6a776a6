"""Notices edits made outside the app and commits them as the `external` author."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from mimo_tui.store.memory_repo import DAMAGED_PREFIX
from mimo_tui.store.records import StoreError
from mimo_tui.store.versioned_store import VersionedStore

log = logging.getLogger(__name__)
IGNORED_DIRS = {".git", "cache", "runs"}  # runs/ holds bulk trainer logs, never committed
IGNORED_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".tmp", ".lock")


def _interesting(root: Path, path: str) -> bool:
    rel = Path(path).relative_to(root) if Path(path).is_absolute() else Path(path)
    if rel.parts and rel.parts[0].startswith(DAMAGED_PREFIX):  # a kept damaged history, never committed
        return False
    return not (set(rel.parts) & IGNORED_DIRS) and not rel.name.endswith(IGNORED_SUFFIXES)


def watch_external_edits(
    store: VersionedStore, stop: threading.Event, on_error: Callable[[str], None] = lambda message: None
) -> None:
    """Block until `stop` is set, committing outside edits about 0.1-0.3 s after they land."""
    from watchfiles import watch

    root = store.root.resolve()
    told: set[str] = set()

    def warn_once(message: str) -> None:  # a file left uncommitted is named once, not on every later edit
        if message not in told:
            told.add(message)
            on_error(message)

    _commit_outside_edits(store, on_error, warn_once)  # edits made while the app was closed
    # An edit landing after that sweep but before the inotify watch is in place raises no event: the first
    # yield (a change, or the first 0.5 s timeout once the watch runs) sweeps again to catch it.
    watching = False
    for changes in watch(
        root,
        watch_filter=lambda _change, path: _interesting(root, path),
        debounce=150,
        step=50,
        stop_event=stop,
        rust_timeout=500,
        yield_on_timeout=True,
        raise_interrupt=False,
    ):
        if changes or not watching:
            _commit_outside_edits(store, on_error, warn_once)
        watching = True


def _commit_outside_edits(store: VersionedStore, on_error: Callable[[str], None], warn: Callable[[str], None]) -> None:
    try:
        store.commit_external(warn)
    except StoreError as exc:
        on_error(str(exc))
    except Exception as exc:  # the watcher must outlive one bad commit
        log.exception("external edit commit failed")
        on_error(f"could not commit an outside edit: {exc}")
