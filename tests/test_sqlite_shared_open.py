"""Several processes opening the same new SQLite file at once (the index and the state database): none fails
with "database is locked" while the file is switched to WAL, nor on a schema another one built meanwhile."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

OPENER = """
import sys, time
from pathlib import Path
from mimo_tui.sqlite_connect import connect_wal
from mimo_tui.sessions.database import open_state_db
from mimo_tui.memory.index import MemoryIndex
folder, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    pass
for round in range(15):
    db = connect_wal(folder / f"index-{round}.db", timeout_s=5.0, synchronous="OFF")
    db.execute("CREATE TABLE IF NOT EXISTS t (x)")
    db.close()
    open_state_db(folder / f"state-{round}.db").close()
    MemoryIndex(folder / f"memory-index-{round}.db", {}).close()
print("done")
"""


def test_processes_opening_the_same_new_databases_at_once_all_succeed(tmp_path: Path) -> None:
    start = time.time() + 1.5  # every child is running before any of them opens
    children = [subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path), str(start)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0 and out.strip() == "done", err[-2000:]
