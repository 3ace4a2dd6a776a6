"""Running blocking work (files, sqlite, git) in a worker thread without leaving it half-reported."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")


async def finish_in_thread(work: Callable[[], T], executor: Executor | None = None) -> T:
    """Run `work` in a worker thread to its end, even when the caller is cancelled meanwhile.

    A write that has started is not abandoned half-way to be reported as never done: its result is
    returned, and the cancel stays pending on the task (`Task.cancelling()`) for the caller's next check.
    """
    if executor is None:
        running = asyncio.ensure_future(asyncio.to_thread(work))
    else:  # one ordered writer thread: writes land in the order they were asked for
        running = asyncio.get_running_loop().run_in_executor(executor, work)
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        return await running
