"""Background work at a lower priority: the worker's litellm import must not take the app's CPU on a busy machine."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from mimo_tui.llm.low_priority import run_at_lower_priority


def _niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_the_work_runs_nicer_than_its_caller_and_the_caller_keeps_its_priority() -> None:
    before = _niceness()
    seen = asyncio.run(run_at_lower_priority(_niceness, 10, "nice work"))
    assert seen == min(19, before + 10)
    assert _niceness() == before


def test_an_error_in_the_work_reaches_the_caller() -> None:
    def broken() -> None:
        raise ValueError("no such module")

    with pytest.raises(ValueError, match="no such module"):
        asyncio.run(run_at_lower_priority(broken, 10, "broken work"))
