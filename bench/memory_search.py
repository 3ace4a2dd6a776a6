"""Memory search benchmark: synthetic Zipf corpus at several sizes; prints figures (not a test).

Run from the project root: `python bench/memory_search.py [--sizes 1000,10000,100000] [--queries 200]`.
Corpora and their index.db are cached under /tmp/mimo-bench-memory (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mimo_tui.memory.context import ContextAssembler, ContextSources  # noqa: E402
from mimo_tui.memory.fts_query import fetch_count, quote, query_tokens  # noqa: E402
from mimo_tui.memory.index import MemoryIndex  # noqa: E402
from mimo_tui.memory.layers import PROJECT_ROOT  # noqa: E402
from mimo_tui.memory.templates import checkpoint_template, notes_entry, notes_template  # noqa: E402

VOCABULARY = 20_000
WORDS_PER_CHUNK = 80
CHUNKS_PER_FILE = 10
CORPUS_VERSION = 2
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary() -> list[str]:
    """20k distinct pronounceable words, most frequent first."""
    rng = random.Random(7)
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
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


def chunk_lines(words: list[str]) -> str:
    return "\n".join(" ".join(words[i:i + 12]) for i in range(0, len(words), 12))


def build_corpus(folder: Path, chunks: int, words: list[str]) -> None:
    """Markdown files of CHUNKS_PER_FILE sections of ~80 words, one ~10 KB hot file and a session to assemble."""
    zipf = ZipfWords(words, seed=chunks)
    for number in range(chunks // CHUNKS_PER_FILE):
        parts = [f"# File {number}\n"]
        for section in range(CHUNKS_PER_FILE):
            parts.append(f"## {' '.join(zipf.sample(3))} {section}\n{chunk_lines(zipf.sample(WORDS_PER_CHUNK))}\n")
        path = folder / f"notes/{number // 500}/f{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(parts), encoding="utf-8")
    hot = "# Hot file\n\n" + "".join(f"## Part {i}\n{chunk_lines(zipf.sample(WORDS_PER_CHUNK))}\n\n" for i in range(18))
    (folder / "plans").mkdir(parents=True, exist_ok=True)
    (folder / "plans/hot.md").write_text(hot[:10_240], encoding="utf-8")
    session = folder / "sessions/bench"
    session.mkdir(parents=True, exist_ok=True)
    body = lambda count: chunk_lines(zipf.sample(count))  # noqa: E731
    checkpoint = checkpoint_template("bench")
    for title in ("§5 Current work", "§7 Discovered knowledge", "§10 Design decisions"):
        checkpoint = checkpoint.replace(f"## {title}\n", f"## {title}\n{body(3000)}\n")
    (session / "checkpoint.md").write_text(checkpoint, encoding="utf-8")
    (session / "notes.md").write_text(notes_template("bench") + "".join(
        "\n" + notes_entry(turn, "2026-11-23T10:00:00Z", body(400)) for turn in range(12)), encoding="utf-8")
    (folder / "MEMORY.md").write_text("# Project memory\n\n" + "".join(
        f"## {title}\n{body(2500)}\n\n" for title in ("Project context", "Rules", "Architecture decisions",
                                                     "Discovered durable knowledge")), encoding="utf-8")


def corpus(cache: Path, chunks: int, words: list[str]) -> tuple[MemoryIndex, Path, float | None]:
    """The cached corpus and index of `chunks` chunks, built on first use (build time returned then)."""
    base = cache / f"corpus-{chunks}"
    marker = base / f"ready-v{CORPUS_VERSION}"
    built = None
    if not marker.exists():
        shutil.rmtree(base, ignore_errors=True)
        (base / "mem").mkdir(parents=True)
        started = time.perf_counter()
        build_corpus(base / "mem", chunks, words)
        written = time.perf_counter() - started
        index = MemoryIndex(base / "index.db", {PROJECT_ROOT: base / "mem"})
        started = time.perf_counter()
        index.reconcile()
        built = time.perf_counter() - started
        print(f"  built corpus of {chunks} chunks: files written in {written:.1f} s, indexed in {built:.1f} s")
        marker.touch()
        return index, base / "mem", built
    return MemoryIndex(base / "index.db", {PROJECT_ROOT: base / "mem"}), base / "mem", None


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.3f} ms  p95 {p95:7.3f} ms"


def queries(words: list[str], ranks: range, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))) for _ in range(count)]


def naive_search(db: sqlite3.Connection, query: str, limit: int = 10) -> list[tuple]:
    """The unweighted reference: every term OR'ed, bm25 over every match, snippet for each fetched row."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    return db.execute("SELECT rowid, rank, snippet(chunks_fts, -1, '[', ']', '…', 16) FROM chunks_fts "
                      "WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                      (" OR ".join(quote(t) for t in tokens), fetch_count(limit))).fetchall()


def run_size(cache: Path, chunks: int, words: list[str], per_class: int) -> None:
    print(f"\n== {chunks:,} chunks ==")
    index, folder, _ = corpus(cache, chunks, words)
    files, stored = index.counts()
    print(f"  index: {files:,} files, {stored:,} chunks")
    reference = sqlite3.connect(index.db_path)
    classes = {"rare": range(5000, VOCABULARY), "mid": range(300, 3000), "common": range(0, 100)}
    for name, ranks in classes.items():
        batch = queries(words, ranks, per_class, seed=len(name) + chunks)
        for query in batch[:5]:
            index.search(query, reconcile=False)  # warm the page cache and term statistics
        it = iter(batch)
        samples = timed(lambda: index.search(next(it), reconcile=False), len(batch))
        naive_batch = batch[: max(10, per_class // 5)] if name == "common" else batch
        it_naive = iter(naive_batch)
        naive = timed(lambda: naive_search(reference, next(it_naive)), len(naive_batch))
        windowed = sum(1 for q in batch if (plan := index.plan(q)) is not None and plan.windowed)
        print(f"  search {name:<6} 1-3 terms   {describe(samples)}   (naive bm25: {describe(naive)}; "
              f"{windowed}/{len(batch)} ranked newest-first)")
    it = iter(queries(words, classes["mid"], 50, seed=3))
    print(f"  search incl. reconcile (mid) {describe(timed(lambda: index.search(next(it)), 50))}")
    print(f"  reference: SELECT 1           {describe(timed(lambda: reference.execute('SELECT 1').fetchone(), 200))}")
    hot = folder / "plans/hot.md"
    original = hot.read_text(encoding="utf-8")
    edits = iter(range(10_000))

    def reindex() -> None:
        hot.write_text(original.replace("## Part 3", f"## Part 3 edit{next(edits)}"), encoding="utf-8")
        index.index_file(PROJECT_ROOT, "plans/hot.md")

    print(f"  re-index one {len(original.encode()) // 1024} KB file    {describe(timed(reindex, 30))}  (includes writing it)")
    hot.write_text(original, encoding="utf-8")
    index.reconcile()
    unchanged = timed(index.reconcile, 20)
    per_thousand = statistics.median(unchanged) * 1000 / max(files, 1)
    print(f"  reconcile {files:,} unchanged files {describe(unchanged)}  ({per_thousand:.1f} ms per 1,000 files)")
    sources = ContextSources(
        task_ledger=lambda sid: "\n".join(f"- T{i} open: task number {i}" for i in range(40)),
        focus_task=lambda sid: "T3: " + " ".join(words[:3000]),
        active_subagents=lambda sid: "- sub-1 on T3.1",
        recent_user_messages=lambda sid: [" ".join(words[i * 100:i * 100 + 2500]) for i in range(10)],
        has_open_work=lambda sid: True,
    )
    cold = timed(lambda: ContextAssembler(folder, None, sources).build("bench", 200_000), 5)
    assembler = ContextAssembler(folder, None, sources)
    block = assembler.build("bench", 200_000)
    warm = timed(lambda: assembler.build("bench", 200_000), 20)
    print(f"  context assembly (warm)       {describe(warm)}  ({block.tokens:,} tokens in {len(block.blocks)} blocks)")
    print(f"  context assembly (cold)       {describe(cold)}  (new assembler: every file counted again)")
    index.close()
    reference.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--queries", type=int, default=200, help="queries per class (rare, mid, common)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mimo-bench-memory"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    print(f"sqlite {sqlite3.sqlite_version}; Zipf vocabulary of {VOCABULARY:,} words; chunks of ~{WORDS_PER_CHUNK} words")
    print("targets: search p95 < 5 ms at 100k; re-index < 10 ms; reconcile 1,000 unchanged < 50 ms; assembly < 20 ms")
    words = vocabulary()
    for size in sizes:
        run_size(args.cache, size, words, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
