"""Background work at a lower CPU priority than the rest of its process (on Linux, niceness is per thread).

The model worker imports litellm (seconds of CPU) right after launch, "on the other core"; on a busy machine there
is no free core, and the import took CPU from the app's own start-up and from the first answer's stream.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def lower_this_thread(niceness: int) -> bool:
    """Raise the calling thread's niceness by `niceness` (Linux only; it cannot be lowered again without
    privilege, so call it only in a thread of its own). Whether it was lowered."""
    if not sys.platform.startswith("linux"):
        return False
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + niceness))
    except (OSError, AttributeError):
        return False
    return True


async def run_at_lower_priority(function: Callable[[], T], niceness: int, name: str) -> T:
    """`function()` in a thread of its own at `niceness` more than this process's, awaited without blocking the loop."""
    loop = asyncio.get_running_loop()
    result: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if result.done():  # the awaiting task was cancelled
            return
        if error is not None:
            result.set_exception(error)
        else:
            result.set_result(value)  # type: ignore[arg-type]

    def body() -> None:
        lower_this_thread(niceness)
        try:
            value = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=body, name=name, daemon=True).start()
    return await result
