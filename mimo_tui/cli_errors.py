"""What a failed command tells the user when the disk, a permission or a database says no: a message, never a traceback."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys

_READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)
_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def explain_os_error(exc: OSError) -> str:
    """A one-line message naming the file and what to do about it."""
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in _FULL:
        return (f"cannot write{where}: {exc.strerror or 'no space left'} (the disk or the file size limit is reached); "
                "free some space and run the command again")
    if exc.errno in _READ_ONLY:
        return (f"cannot write{where}: {exc.strerror or 'permission denied'} (a read-only folder, or one owned by "
                f"another user?); run mimo as a user who may write there")
    return f"{exc.strerror or exc}{':' + where if where else ''}"


def explain_database_error(exc: sqlite3.Error) -> str:
    """Says which database, and why it failed as the user sees it: full, read-only, damaged."""
    where = "".join(f" ({note})" for note in getattr(exc, "__notes__", ()))
    text = f"{exc}{where}"
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    lowered = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "full" in lowered:
        return f"a database of this project cannot be written: {text}; free some space and run the command again"
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM) or "readonly" in lowered:
        return (f"a database of this project cannot be opened for writing: {text} (a read-only .mimo/ folder, or one "
                "owned by another user?); run mimo as a user who may write there")
    if code == sqlite3.SQLITE_IOERR:
        return f"a database of this project cannot be written: {text} (a full disk, or a read-only folder?)"
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in lowered:
        if "state.db" in where:
            return (f"the session database is damaged: {text}. Move it aside (for example to state.db.broken) to "
                    "start a fresh session history; memory files and their history are untouched")
        return (f"a database of this project is damaged: {text}. index.db is derived: delete it and it is "
                "rebuilt from the memory files, which are untouched")
    return f"database error: {text}"


def quiet_broken_pipe() -> int:
    """The reader of our output went away (`mimo memory log | head`): stop quietly, as `git log | head` does.

    Per the Python docs, point stdout at devnull so the interpreter's final flush does not fail again.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a command stopped by a closed pipe
