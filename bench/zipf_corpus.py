"""A Zipf-distributed synthetic memory index, written straight into index.db with executemany (seconds, not minutes).

Shared by bench/memory_search.py and the ranking tests: chunk i (rowid i + 1) lives in `notes/f{i // 10}.md`
under the heading `s{i + 1} ...`, so a hit can be told apart by its heading's first word.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

from mimo_tui.memory.index import TRIGGER_INSERT, MemoryIndex
from mimo_tui.memory.layers import PROJECT_ROOT

VOCABULARY = 20_000
WORDS_PER_CHUNK = 80
CHUNKS_PER_FILE = 10
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary(size: int = VOCABULARY) -> list[str]:
    """Distinct pronounceable words, most frequent first."""
    rng = random.Random(7)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))] = None
    return list(words)


class ZipfWords:
    """Samples words with probability proportional to 1/rank."""

    def __init__(self, words: list[str], seed: int) -> None:
        self.words = words
        self.cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(words))))
        self.rng = random.Random(seed)

    def sample(self, count: int) -> list[str]:
        return self.rng.choices(self.words, cum_weights=self.cumulative, k=count)


def body_lines(words: list[str]) -> str:
    return "\n".join(" ".join(words[i:i + 12]) for i in range(0, len(words), 12))


# (rowid, heading words, body words) -> replacement (heading words, body words); plants relevant chunks.
Planter = Callable[[int, list[str], list[str]], tuple[list[str], list[str]]]


def build_index(db_path: Path, folder: Path, chunks: int, seed: int = 1, plant: Planter | None = None) -> MemoryIndex:
    """An index of `chunks` Zipf chunks of ~80 words (files not written: search it with reconcile=False)."""
    words = vocabulary()
    zipf = ZipfWords(words, seed)
    folder.mkdir(parents=True, exist_ok=True)
    MemoryIndex(db_path, {PROJECT_ROOT: folder}).close()  # creates the schema
    db = sqlite3.connect(db_path)
    db.execute("BEGIN")
    db.execute("DROP TRIGGER chunks_ai")
    files = (chunks + CHUNKS_PER_FILE - 1) // CHUNKS_PER_FILE
    db.executemany("INSERT INTO files(id, root, relpath, size, mtime_ns, scope, type) VALUES (?, ?, ?, 0, 0, 'project', 'notes')",
                   [(n + 1, PROJECT_ROOT, f"notes/f{n}.md") for n in range(files)])
    rows = []
    for i in range(chunks):
        sampled = zipf.sample(WORDS_PER_CHUNK + 3)
        heading, body = sampled[:3], sampled[3:]
        if plant is not None:
            heading, body = plant(i + 1, heading, body)
        line = (i % CHUNKS_PER_FILE) * 12 + 1
        rows.append((i + 1, i // CHUNKS_PER_FILE + 1, line, line + 1, f"s{i + 1} " + " ".join(heading), body_lines(body)))
    db.executemany("INSERT INTO chunks(id, file_id, line, body_line, heading, body, scope, type) "
                   "VALUES (?, ?, ?, ?, ?, ?, 'project', 'notes')", rows)
    db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
    db.execute(TRIGGER_INSERT)
    db.execute("COMMIT")
    db.close()
    return MemoryIndex(db_path, {PROJECT_ROOT: folder})
