"""The workbench keeps the garbage collector from stalling it: long-lived objects frozen, young collections rarer."""

from __future__ import annotations

import gc
from pathlib import Path

from mimo_tui.collector import THRESHOLDS
from tests.fixtures.ui import make_app, wait_until


async def test_the_app_tunes_and_freezes_the_collector(git_project: Path) -> None:
    before = gc.get_threshold()
    gc.unfreeze()
    try:
        app = make_app(git_project)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(pilot, lambda: gc.get_freeze_count() > 0)
            assert gc.get_threshold() == THRESHOLDS
            # what the first screen needs is out of every later collection's way
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.set_threshold(*before)
