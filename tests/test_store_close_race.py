"""Closing a store while another thread still reads or writes it ends that thread's work with a clean error,
never a crash of the process (the app's shutdown closes the databases while worker threads may be busy)."""

from __future__ import annotations

import subprocess
import sys

RACE = """
import sqlite3, sys, threading, time
from pathlib import Path
from mimo_tui.sessions.context_state import ContextStateStore
from mimo_tui.sessions.store import SessionStore
from mimo_tui.tasks.store import TaskStore

db = Path(sys.argv[1])
errors = []
for round in range(40):
    sessions, tasks, states = SessionStore(db), TaskStore(db), ContextStateStore(db)
    session = sessions.create("offline/agent")
    stop = threading.Event()

    def busy():
        try:
            while not stop.is_set():
                sessions.add_message(session.id, 1, "user", "x " * 200)
                sessions.messages(session.id)
                tasks.list(session.id)
                states.update(session.id, rebuilds=1)
        except sqlite3.ProgrammingError as exc:
            errors.append(str(exc))
        except BaseException as exc:
            print("unexpected", type(exc).__name__, exc, flush=True)
            raise

    threads = [threading.Thread(target=busy) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.01)
    sessions.close(); tasks.close(); states.close()
    stop.set()
    for t in threads:
        t.join()
print("ok", len(errors))
"""


def test_closing_stores_under_busy_threads_never_crashes_the_process(tmp_path) -> None:
    done = subprocess.run([sys.executable, "-c", RACE, str(tmp_path / "state.db")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-1500:]}"
    assert done.stdout.startswith("ok") and "unexpected" not in done.stdout, done.stdout
