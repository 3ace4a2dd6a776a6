"""History search benchmark on a Zipf corpus of session messages: warm latency and agreement beside plain FTS5
bm25 in one process, and a fresh `mimo history search` process (what a user runs from the shell) before and after
the per-term lists it stores in state.db exist, and after an append makes them stale. Prints figures (not a test).

Run from the project root: `python bench/history_search.py [--messages 100000] [--queries 200]`; `--tiny` runs
everything once on a small corpus (the test suite does that so the bench cannot rot). The corpus is cached under
--cache (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from zipf_corpus import VOCABULARY, WORDS_PER_CHUNK, ZipfWords, body_lines, vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import query_tokens, quote  # noqa: E402
from mimo_tui.memory.history_index import KINDS, HistoryIndex  # noqa: E402

CORPUS_VERSION = 1
CLASSES = {"rare": range(5000, VOCABULARY), "mid": range(300, 3000), "common": range(10, 100)}
# Times one search in a fresh interpreter: imports, opening state.db and the search itself.
FRESH = """
import sys, time
started = time.perf_counter()
from mimo_tui.memory.history_index import HistoryIndex
index = HistoryIndex(sys.argv[1])
opened, used = time.perf_counter(), time.thread_time()
hits = index.search(sys.argv[2])
print(f"{(time.perf_counter() - started) * 1000:.2f} {(time.perf_counter() - opened) * 1000:.2f} "
      f"{(time.thread_time() - used) * 1000:.2f} {len(hits)}")
"""


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.2f}  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms"


def timed(action: Callable[[], object]) -> tuple[float, float, object]:
    """(wall ms, this thread's CPU ms, result)."""
    started, used = time.perf_counter(), time.thread_time()
    result = action()
    return (time.perf_counter() - started) * 1000, (time.thread_time() - used) * 1000, result


def build(state_db: Path, messages: int, words: list[str]) -> None:
    state_db.parent.mkdir(parents=True, exist_ok=True)
    sqlite3.connect(state_db).execute("PRAGMA journal_mode=WAL").fetchall()  # as the session store opens it
    index = HistoryIndex(state_db)
    index.add("s0", 0, "user", "user", "start")  # creates the table the way the app does
    index.close()
    zipf = ZipfWords(words, seed=messages)
    db = sqlite3.connect(state_db)
    db.execute("BEGIN")
    db.executemany("INSERT INTO history_fts(text, session_id, message_id, role, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                   ((body_lines(zipf.sample(WORDS_PER_CHUNK)), f"s{n % 50}", str(n), "user", KINDS[n % len(KINDS)],
                     1_700_000_000 + n) for n in range(1, messages)))
    db.execute("COMMIT")
    db.close()


def queries(words: list[str], ranks: range, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))) for _ in range(count)]


def plain_bm25(db: sqlite3.Connection, query: str, limit: int = 10, session_id: str | None = None) -> list[tuple[int, float]]:
    where = " AND session_id = ?" if session_id is not None else ""
    return [(rowid, -rank) for rowid, rank in db.execute(
        f"SELECT rowid, rank FROM history_fts WHERE history_fts MATCH ?{where} ORDER BY rank LIMIT ?",
        (" OR ".join(quote(t) for t in query_tokens(query)), *([session_id] if session_id is not None else []), limit))]


def in_process(state_db: Path, words: list[str], per_class: int) -> None:
    index = HistoryIndex(state_db)
    reference = sqlite3.connect(state_db)
    print("  one process, warm (each query run once before): mimo history search beside plain bm25 (ranking only)")
    print(f"  {'class':<7}{'mimo search':<44}{'plain bm25':<44}agreement")
    for name, ranks in CLASSES.items():
        batch = queries(words, ranks, per_class, seed=len(name))
        for query in batch:
            index.search(query)
        mine, plain, mine_cpu, plain_cpu, agreement = [], [], [], [], []
        for query in batch:
            spent, cpu, hits = timed(lambda: index.search(query))
            mine.append(spent)
            mine_cpu.append(cpu)
            spent, cpu, expected = timed(lambda: plain_bm25(reference, query))
            plain.append(spent)
            plain_cpu.append(cpu)
            top = [score for _, score in expected]
            want = sorted(round(score, 4) for score in top if score >= 0.15 * top[0]) if top else []
            if want:
                got = sorted(hit.score for hit in hits)
                agreement.append(sum(1 for a, b in zip(got, want) if abs(a - b) < 1e-3) / len(want))
        print(f"  {name:<7}{describe(mine):<44}{describe(plain):<44}{statistics.mean(agreement or [1]):.2f}")
        print(f"  {'':<7}CPU time: mimo {describe(mine_cpu)}; plain bm25 {describe(plain_cpu)}")
    print("  the same, with a session filter (s7, one message in 50)")
    for name, ranks in CLASSES.items():
        batch = queries(words, ranks, per_class, seed=len(name))
        for query in batch:
            index.search(query, session_id="s7")
        mine_cpu, plain_cpu, agreement = [], [], []
        for query in batch:
            _, cpu, hits = timed(lambda: index.search(query, session_id="s7"))
            mine_cpu.append(cpu)
            _, cpu, expected = timed(lambda: plain_bm25(reference, query, session_id="s7"))
            plain_cpu.append(cpu)
            top = [score for _, score in expected]
            want = sorted(round(score, 4) for score in top if score >= 0.15 * top[0]) if top else []
            if want:
                got = sorted(hit.score for hit in hits)
                agreement.append(sum(1 for a, b in zip(got, want) if abs(a - b) < 1e-3) / len(want))
        print(f"  {name:<7}CPU time: mimo {describe(mine_cpu)}; plain bm25 {describe(plain_cpu)}; "
              f"agreement {statistics.mean(agreement or [1]):.2f}")
    after_another_process(index, state_db, words, per_class)
    index.close()
    reference.close()


def after_another_process(index: HistoryIndex, state_db: Path, words: list[str], per_class: int) -> None:
    """The first filtered search after another process (its own connection) appended a message, beside the same
    search warm: the filter's rows and the term lists follow the appended row instead of being read again."""
    batch = queries(words, CLASSES["common"], max(3, per_class // 10), seed=23)
    first, warm, agreement = [], [], []
    reference = sqlite3.connect(state_db)
    for number, query in enumerate(batch):
        index.search(query, session_id="s7")
        other = HistoryIndex(state_db)
        other.add("s7", f"other-{number}", "user", "user", " ".join(words[10:20]))
        other.close()
        spent, _, hits = timed(lambda: index.search(query, session_id="s7"))
        first.append(spent)
        warm.append(timed(lambda: index.search(query, session_id="s7"))[0])
        top = [score for _, score in plain_bm25(reference, query, session_id="s7")]
        want = sorted(round(score, 4) for score in top if score >= 0.15 * top[0]) if top else []
        if want:
            got = sorted(hit.score for hit in hits)
            agreement.append(sum(1 for a, b in zip(got, want) if abs(a - b) < 1e-3) / len(want))
    reference.close()
    print(f"  filtered (s7) search after another process appended a message: first {describe(first)}; warm "
          f"{describe(warm)}; agreement {statistics.mean(agreement or [1]):.2f}")


def fresh(state_db: Path, query: str) -> tuple[float, float, float]:
    """(ms from interpreter start to hits, ms of the search alone, its CPU ms) in a new process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", FRESH, str(state_db), query], capture_output=True, text=True, env=env,
                          timeout=120, check=True)
    total, search, cpu, _ = done.stdout.split()
    return float(total), float(search), float(cpu)


def cli(project: Path, query: str) -> float:
    """Wall ms of `python -m mimo_tui history search QUERY` in the project."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mimo_tui", "history", "search", query], cwd=project, env=env,
                   capture_output=True, timeout=120)
    return (time.perf_counter() - started) * 1000


def drop_stored_lists(state_db: Path) -> None:
    db = sqlite3.connect(state_db)
    for table in ("history_term_lists", "history_term_lists_v2"):  # before and after lists kept their lengths
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.commit()
    db.close()


def fresh_processes(project: Path, state_db: Path, words: list[str], count: int) -> None:
    batch = queries(words, CLASSES["common"], count, seed=99)
    print(f"  a fresh process per query, {count} common-word queries: search alone (whole process incl. imports)")
    drop_stored_lists(state_db)
    cold = [fresh(state_db, query) for query in batch]
    print(f"  no stored lists (first search after an append)  {describe([s for _, s, _ in cold])}  "
          f"(process {describe([t for t, _, _ in cold])})")
    print(f"  {'':<48}CPU time of the search {describe([c for _, _, c in cold])}")
    stored = [fresh(state_db, query) for query in batch]
    print(f"  lists stored by an earlier process              {describe([s for _, s, _ in stored])}  "
          f"(process {describe([t for t, _, _ in stored])})")
    print(f"  {'':<48}CPU time of the search {describe([c for _, _, c in stored])}")
    index = HistoryIndex(state_db)
    index.add("s1", "appended", "user", "user", " ".join(words[10:20]))
    index.close()
    stale = [fresh(state_db, query) for query in batch[:max(2, count // 4)]]
    print(f"  after one appended message (lists behind; followed) {describe([s for _, s, _ in stale])}")
    print(f"  {'':<48}CPU time of the search {describe([c for _, _, c in stale])}")
    commands = [cli(project, query) for query in batch[:max(2, count // 4)]]
    print(f"  `mimo history search` whole command, lists stored {describe(commands)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per class (rare, mid, common)")
    parser.add_argument("--cold", type=int, default=20, help="fresh processes per cold measurement")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mimo-bench-history"))
    parser.add_argument("--tiny", action="store_true", help="a small corpus, few queries, in a temp folder")
    args = parser.parse_args()
    cache = args.cache
    if args.tiny:
        args.messages, args.queries, args.cold, cache = 2000, 10, 2, Path(tempfile.mkdtemp(prefix="mimo-bench-"))
    words = vocabulary()
    base = cache / f"history-{args.messages}-v{CORPUS_VERSION}"
    project = base / "proj"
    state_db = project / ".mimo" / "state.db"
    try:
        if not (base / "ready").exists():
            shutil.rmtree(base, ignore_errors=True)
            started = time.perf_counter()
            build(state_db, args.messages, words)
            (base / "ready").touch()
            print(f"built {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
        print(f"sqlite {sqlite3.sqlite_version}; {args.messages:,} messages of ~{WORDS_PER_CHUNK} Zipf words")
        in_process(state_db, words, args.queries)
        fresh_processes(project, state_db, words, args.cold)
    finally:
        if args.tiny:
            shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
