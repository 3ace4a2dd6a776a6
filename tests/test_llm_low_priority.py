"""Background work at a lower priority: the worker's litellm import must not take the app's CPU on a busy machine."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

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


def _thread_niceness(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        found.append(int(fields[16]))  # stat's 19th field, counted after the ")" that ends the name
    return found


async def test_the_model_worker_imports_litellm_below_its_own_priority() -> None:
    from mimo_tui.llm.worker_client import ModelWorker

    worker = ModelWorker()
    await worker.wait_ready()
    warming = asyncio.get_running_loop().create_task(worker.warm())
    try:
        pid = worker.pid
        assert pid is not None
        for _ in range(500):  # the import takes seconds: its thread shows up at once
            if max(_thread_niceness(pid)) > 0:
                break
            await asyncio.sleep(0.01)
        nice = _thread_niceness(pid)
        assert max(nice) == min(19, _niceness() + 10), nice
        assert min(nice) == _niceness(), nice  # the worker's loop, which streams the answers, keeps its priority
    finally:
        warming.cancel()
        await worker.stop()
