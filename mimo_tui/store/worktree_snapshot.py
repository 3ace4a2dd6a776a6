"""The bytes of a few files before a git operation, put back when the operation fails half-way.

`git revert --no-commit` writes the work tree before the index; on a full disk the index write fails, and so do
`revert --abort` and `reset --merge`, which leaves the files reverted on disk but not committed (the next external
edit commit would then record a revert the user was told had failed).
"""

from __future__ import annotations

import os
from pathlib import Path


def snapshot(root: Path, relpaths: list[str]) -> dict[str, bytes | None]:
    found: dict[str, bytes | None] = {}
    for rel in relpaths:
        try:
            found[rel] = (root / rel).read_bytes()
        except FileNotFoundError:
            found[rel] = None
        except OSError:
            continue  # unreadable: left alone
    return found


def restore(root: Path, before: dict[str, bytes | None]) -> list[str]:
    """Put back every file that differs from `before`; written in place, since a full disk has no room for a temp copy."""
    restored = []
    for rel, data in before.items():
        path = root / rel
        try:
            now = path.read_bytes() if path.exists() else None
            if now == data:
                continue
            if data is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            restored.append(rel)
        except OSError:
            continue
    return restored
