"""Keeps Python's cyclic garbage collector from pausing a long-running interactive process.

With the defaults, a streamed 20,000-token answer triggered full collections that each walked
every object alive (litellm's hundreds of thousands of module objects, plus the stream's own
chunks) and stalled the app for up to 0.57 s at a time, 5.3 s in all (bench/stream_render.py).
Objects that live as long as the process (imported modules, the first screen) are frozen, so
collections skip them, and young collections run less often.
"""

from __future__ import annotations

import gc

# (young, middle, old): a young collection per 20,000 net allocations instead of 700, and a full
# one only after 50 middle ones (Python still skips it until long-lived objects grew by 25 %).
THRESHOLDS = (20_000, 10, 50)


def tune_for_interactive_use() -> None:
    """Collect less often; call once at process start of a long-running app."""
    gc.set_threshold(*THRESHOLDS)


def freeze_long_lived_objects() -> None:
    """Move every object tracked now out of future collections (call after big imports or start-up)."""
    gc.freeze()
