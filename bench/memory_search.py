"""Memory search benchmark on a Zipf corpus: ranking quality and latency beside plain FTS5 bm25, and the
memory pane's real search path per keystroke beside the path it replaced. Prints figures (not a test).

Run from the project root: `python bench/memory_search.py [--sizes 1000,10000,100000] [--queries 200]`;
`--tiny` runs everything once on a small corpus (the test suite does that so the bench cannot rot).
Ranking corpora are written straight into index.db; pane corpora are real markdown files in a project's
`.mimo/`, cached under --cache (delete it to rebuild).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from zipf_corpus import CHUNKS_PER_FILE, VOCABULARY, WORDS_PER_CHUNK, ZipfWords, body_lines, build_index, vocabulary  # noqa: E402

from mimo_tui.memory.fts_query import fetch_count, quote, query_tokens  # noqa: E402
from mimo_tui.memory.index import MemoryIndex  # noqa: E402
from mimo_tui.memory.templates import checkpoint_template, notes_entry, notes_template  # noqa: E402

CORPUS_VERSION = 4
CLASSES = {"rare": range(5000, VOCABULARY), "mid": range(300, 3000), "common": range(0, 100)}


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {statistics.median(ordered):7.2f}  p95 {p95:7.2f}  max {ordered[-1]:7.2f} ms"


def clock(action: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def timed(action: Callable[[], object]) -> tuple[float, float, object]:
    """(wall ms, this thread's CPU ms, result): CPU time does not count waiting for a core on a loaded machine."""
    started, used = time.perf_counter(), time.thread_time()
    result = action()
    return (time.perf_counter() - started) * 1000, (time.thread_time() - used) * 1000, result


def queries(words: list[str], ranks: range, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(words[rng.choice(ranks)] for _ in range(rng.randint(1, 3))) for _ in range(count)]


def plain_bm25(db: sqlite3.Connection, query: str, limit: int = 10) -> list[tuple[int, float]]:
    """The reference: every term OR'ed, bm25 over every match (the 3 x limit mimo fetches)."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    return [(rowid, -rank) for rowid, rank in db.execute(
        "SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
        (" OR ".join(quote(t) for t in tokens), fetch_count(limit)))]


def ranking(cache: Path, chunks: int, words: list[str], per_class: int) -> None:
    base = cache / f"ranking-{chunks}-v{CORPUS_VERSION}"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        base.mkdir(parents=True)
        built, index = clock(lambda: build_index(base / "index.db", base / "mem", chunks))
        index.close()
        print(f"  built a {chunks:,}-chunk index with executemany in {built / 1000:.1f} s")
        (base / "ready").touch()
    index = MemoryIndex(base / "index.db", {"project": base / "mem"})
    reference = sqlite3.connect(base / "index.db")
    print(f"  ranking: mimo search (top 10 with snippets) and plain bm25 (ranking only), interleaved; overlap = |mimo"
          f" top 10 ∩ bm25 top 10| / 10 (ties at the 10th score count as agreeing)")
    print(f"  {'class':<7}{'mimo search':<44}{'plain bm25':<44}overlap  none  paths")
    for name, ranks in CLASSES.items():
        batch = queries(words, ranks, per_class, seed=len(name) + chunks)
        cold: list[float] = []
        mine: list[float] = []
        plain: list[float] = []
        mine_cpu: list[float] = []
        plain_cpu: list[float] = []
        overlaps: list[float] = []
        paths: Counter[str] = Counter()
        for query in batch:
            spent, _ = clock(lambda: index.search(query, reconcile=False))
            cold.append(spent)  # first sight of the query's terms since the index opened (statistics computed)
        for query in batch:
            spent, cpu, hits = timed(lambda: index.search(query, reconcile=False))
            mine.append(spent)
            mine_cpu.append(cpu)
            spent, cpu, expected = timed(lambda: plain_bm25(reference, query))
            plain.append(spent)
            plain_cpu.append(cpu)
            paths[index.ranking_path(query).split("/")[0]] += 1
            top = [score for _, score in expected[:10]]
            kept = [score for score in top if score >= 0.15 * top[0]] if top else []
            if kept:
                got = sorted(hit.score for hit in hits)
                want = sorted(round(score, 4) for score in kept)
                overlaps.append(sum(1 for a, b in zip(got, want) if abs(a - b) < 1e-3) / len(kept))
        none = sum(1 for value in overlaps if value == 0)
        print(f"  {name:<7}{describe(mine):<44}{describe(plain):<44}{statistics.mean(overlaps or [1]):.2f}  "
              f"{none:>3}/{len(overlaps):<3} {dict(paths)}")
        print(f"  {'':<7}first sight of each query's words: {describe(cold)}")
        print(f"  {'':<7}CPU time: mimo {describe(mine_cpu)}; plain bm25 {describe(plain_cpu)}")
    filtered_and_stopwords(index, reference, words, per_class, chunks)
    after_an_append(index, base, words, per_class, chunks)
    index.close()
    reference.close()


def filtered_plain_bm25(db: sqlite3.Connection, query: str, session_id: str, limit: int = 10) -> list[tuple[int, float]]:
    """The reference with the filter the pane's session search uses: FTS5 scores every match, then filters."""
    tokens = query_tokens(query)
    return [(rowid, -rank) for rowid, rank in db.execute(
        "SELECT chunks_fts.rowid, chunks_fts.rank FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid "
        "JOIN files f ON f.id = c.file_id WHERE chunks_fts MATCH ? AND f.session_id = ? ORDER BY chunks_fts.rank LIMIT ?",
        (" OR ".join(quote(t) for t in tokens), session_id, fetch_count(limit)))] if tokens else []


def agreement(hits: list, expected: list[tuple[int, float]]) -> float | None:
    top = [score for _, score in expected[:10]]
    kept = [score for score in top if score >= 0.15 * top[0]] if top else []
    if not kept:
        return None
    got = sorted(hit.score for hit in hits)
    want = sorted(round(score, 4) for score in kept)
    return sum(1 for a, b in zip(got, want) if abs(a - b) < 1e-3) / len(kept)


def filtered_and_stopwords(index: MemoryIndex, reference: sqlite3.Connection, words: list[str], per_class: int,
                           chunks: int) -> None:
    """A session filter (a third of the files) per class, and queries of stopwords only (words in most chunks)."""
    with reference:
        reference.execute("UPDATE files SET session_id = 's' || (1 + id % 3) WHERE session_id IS NOT 's' || (1 + id % 3)")
    stop = words[:5]
    batches = {f"{name}+filter": (queries(words, ranks, per_class, seed=7 + len(name) + chunks), "s1")
               for name, ranks in CLASSES.items() if name != "rare"}
    rng = random.Random(chunks)
    batches["stopwords"] = ([" ".join(rng.sample(stop, rng.randint(2, 3))) for _ in range(per_class)], None)
    for name, (batch, session) in batches.items():
        mine: list[float] = []
        plain: list[float] = []
        overlaps: list[float] = []
        paths: Counter[str] = Counter()
        for query in batch:
            index.search(query, session_id=session, reconcile=False)  # lists and the filter's rows, once
        for query in batch:
            spent, hits = clock(lambda: index.search(query, session_id=session, reconcile=False))
            mine.append(spent)
            spent, expected = clock(lambda: filtered_plain_bm25(reference, query, session) if session else plain_bm25(reference, query))
            plain.append(spent)
            paths[index.ranking_path(query, session_id=session).split("/")[0]] += 1
            value = agreement(hits, expected)
            if value is not None:
                overlaps.append(value)
        print(f"  {name:<15}mimo {describe(mine)}   plain bm25 {describe(plain)}   overlap "
              f"{statistics.mean(overlaps or [1]):.2f} {dict(paths)}")


def after_an_append(index: MemoryIndex, base: Path, words: list[str], per_class: int, chunks: int) -> None:
    """The first search after one small file is appended to the index, by this process and by another (its own
    connection), against the same search warm."""
    zipf = ZipfWords(words, seed=chunks + 1)
    batch = queries(words, CLASSES["common"], per_class, seed=11 + chunks)
    folder = base / "mem"
    other = MemoryIndex(base / "index.db", {"project": folder})
    for label, writer in (("this process", index), ("another process", other)):
        first: list[float] = []
        warm: list[float] = []
        for number, query in enumerate(batch[: max(3, per_class // 10)]):
            index.search(query, reconcile=False)
            relpath = f"appended/a{number}.md"
            (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
            (folder / relpath).write_text("# appended\n\n" + " ".join(zipf.sample(WORDS_PER_CHUNK)) + "\n", encoding="utf-8")
            writer.index_file("project", relpath)
            spent, _ = clock(lambda: index.search(query, reconcile=False))
            first.append(spent)
            spent, _ = clock(lambda: index.search(query, reconcile=False))
            warm.append(spent)
            (folder / relpath).unlink()
            writer.index_file("project", relpath)
        print(f"  append+search  appended by {label:<16} first search after it {describe(first)}; "
              f"the same search warm {describe(warm)}")
    other.close()


def write_project_corpus(folder: Path, chunks: int, words: list[str]) -> None:
    """Markdown files of CHUNKS_PER_FILE headed sections of ~80 words, and a ~10 KB hot file."""
    zipf = ZipfWords(words, seed=chunks)
    for number in range(chunks // CHUNKS_PER_FILE):
        parts = [f"# File {number}\n"]
        for section in range(CHUNKS_PER_FILE):
            parts.append(f"## {' '.join(zipf.sample(3))} {section}\n{body_lines(zipf.sample(WORDS_PER_CHUNK))}\n")
        path = folder / f"notes/{number // 500}/f{number}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(parts), encoding="utf-8")
    hot = "# Hot file\n\n" + "".join(f"## Part {i}\n{body_lines(zipf.sample(WORDS_PER_CHUNK))}\n\n" for i in range(18))
    (folder / "plans").mkdir(parents=True, exist_ok=True)
    (folder / "plans/hot.md").write_text(hot[:10_240], encoding="utf-8")
    session = folder / "sessions/bench"
    session.mkdir(parents=True, exist_ok=True)
    body = lambda count: body_lines(zipf.sample(count))  # noqa: E731
    checkpoint = checkpoint_template("bench")
    for title in ("§5 Current work", "§7 Discovered knowledge", "§10 Design decisions"):
        checkpoint = checkpoint.replace(f"## {title}\n", f"## {title}\n{body(3000)}\n")
    (session / "checkpoint.md").write_text(checkpoint, encoding="utf-8")
    (session / "notes.md").write_text(notes_template("bench") + "".join(
        "\n" + notes_entry(turn, "2026-11-23T10:00:00Z", body(400)) for turn in range(12)), encoding="utf-8")
    (folder / "MEMORY.md").write_text("# Project memory\n\n" + "".join(
        f"## {title}\n{body(2500)}\n\n" for title in ("Project context", "Rules", "Architecture decisions",
                                                     "Discovered durable knowledge")), encoding="utf-8")


def context_assembly(folder: Path, words: list[str]) -> None:
    """The memory block a session injects, assembled warm (one assembler) and cold (a new one each time)."""
    from mimo_tui.memory.context import ContextAssembler, ContextSources

    sources = ContextSources(
        task_ledger=lambda sid: "\n".join(f"- T{i} open: task number {i}" for i in range(40)),
        focus_task=lambda sid: "T3: " + " ".join(words[:3000]),
        active_subagents=lambda sid: "- sub-1 on T3.1",
        recent_user_messages=lambda sid: [" ".join(words[i * 100:i * 100 + 2500]) for i in range(10)],
        has_open_work=lambda sid: True,
    )
    cold = [clock(lambda: ContextAssembler(folder, None, sources).build("bench", 200_000))[0] for _ in range(5)]
    assembler = ContextAssembler(folder, None, sources)
    block = assembler.build("bench", 200_000)
    warm = [clock(lambda: assembler.build("bench", 200_000))[0] for _ in range(20)]
    print(f"  context assembly (warm)       {describe(warm)}  ({block.tokens:,} tokens in {len(block.blocks)} blocks)")
    print(f"  context assembly (cold)       {describe(cold)}  (new assembler: every file counted again)")


def previous_pane_path(index: MemoryIndex, query: str) -> object:
    """What the pane ran per query before: reconcile, every label rebuilt and fuzzed, reconcile again, search."""
    from rapidfuzz import fuzz, process

    index.reconcile()
    labels = []
    seen: set[tuple[str, str]] = set()
    for root, relpath, line, heading in index.outline():
        if (root, relpath) not in seen:
            seen.add((root, relpath))
            labels.append(relpath)
        if heading:
            labels.append(f"{relpath} › {heading}")
    names = process.extract(query, labels, scorer=fuzz.WRatio, limit=5, score_cutoff=50)
    return names, index.search(query, limit=30)


def pane(cache: Path, chunks: int, words: list[str], per_class: int) -> None:
    from mimo_tui.memory.service import MemoryService
    from mimo_tui.project import Project

    base = cache / f"pane-{chunks}-v{CORPUS_VERSION}"
    root = base / "proj"
    if not (base / "ready").exists():
        shutil.rmtree(base, ignore_errors=True)
        root.mkdir(parents=True)
        project = Project.open(root)
        written, _ = clock(lambda: write_project_corpus(project.workspace.mimo_dir, chunks, words))
        memory = MemoryService(project)
        indexed, _ = clock(lambda: memory.index.reconcile())
        print(f"  built a {chunks:,}-chunk project: files written in {written / 1000:.1f} s, indexed in {indexed / 1000:.1f} s")
        memory.close()
        (base / "ready").touch()
    project = Project.open(root)
    memory = MemoryService(project)
    prepared, _ = clock(memory.prepare_search)
    first, _ = clock(lambda: memory.search_as_typed("x"))
    files, stored = memory.index.counts()
    print(f"  pane: {files:,} files, {stored:,} chunks; preparing the search (reconcile once, names gathered; the "
          f"pane does it off the UI thread when it shows) {prepared:.0f} ms; the first keystroke after it {first:.0f} ms")
    rng = random.Random(chunks)
    typed = [" ".join(words[rng.choice(ranks)] for ranks in (CLASSES["mid"], CLASSES["rare"])) for _ in range(per_class)]
    keystrokes = [text[:end] for text in typed for end in range(1, len(text) + 1) if text[end - 1] != " "]
    samples = [clock(lambda: memory.search_as_typed(prefix))[0] for prefix in keystrokes]
    print(f"  per keystroke, search_as_typed (the pane's worker)  {describe(samples)}  ({len(keystrokes)} keystrokes)")
    memory.close()
    on_screen, on_screen_cpu, missed, first_key = asyncio.run(pane_on_screen(root, typed[:max(2, per_class // 2)]))
    print(f"  per keystroke, key to screen (the app, Pilot)      {describe(on_screen)}  ({len(on_screen)} keystrokes, "
          f"{missed} not drawn within 5 s; the first key of the session {first_key:.0f} ms)")
    print(f"  {'':<51}CPU time of the app process, key to screen: {describe(on_screen_cpu)}")
    project = Project.open(root)
    memory = MemoryService(project)
    memory.search_as_typed("x")  # a new service: catch up with the files and gather names once, as the first key does
    before = [clock(lambda: previous_pane_path(memory.index, prefix))[0] for prefix in keystrokes[:max(3, len(keystrokes) // 20)]]
    print(f"  per keystroke, the previous pane path (reference)   {describe(before)}  ({len(before)} keystrokes)")
    hot = project.workspace.mimo_dir / "plans/hot.md"
    original = hot.read_text(encoding="utf-8")
    edits = iter(range(10_000))

    def commit_edit() -> None:
        project.store.write("plans/hot.md", original.replace("## Part 3", f"## Part 3 edit{next(edits)}"))

    commits = [clock(commit_edit)[0] for _ in range(5)]
    after = [clock(lambda: memory.search_as_typed("edit"))[0] for _ in range(1)]
    print(f"  a store commit re-indexes the file {describe(commits)}; next keystroke {after[0]:.1f} ms "
          f"(names updated for that file only)")
    names = [entry.heading for entry in memory.search_as_typed(f"Part 3 edit{next(edits) - 1}")[0]]
    print(f"  the committed heading is found by name: {any('edit' in name for name in names)}")
    project.store.write("plans/hot.md", original)
    unchanged = [clock(memory.index.reconcile)[0] for _ in range(5)]
    print(f"  reconcile {files:,} unchanged files {describe(unchanged)} (no longer run per keystroke)")
    context_assembly(project.workspace.mimo_dir, words)
    memory.close()


async def pane_on_screen(root: Path, typed: list[str]) -> tuple[list[float], list[float], int, float]:
    """Key to screen in the real app (headless Pilot, 120x40): each key is pressed once the previous key's
    results are drawn; the time is taken when the first frame after the results list was filled for that
    text has been composed (call_after_refresh). Returns (per-keystroke wall ms, per-keystroke CPU ms of the
    whole app process, keystrokes missed, first-key ms)."""
    from textual.widgets import Input

    from mimo_tui.ui.app import MimoApp
    from mimo_tui.ui.memory_pane import MemoryPane
    from mimo_tui.ui.memory_search import MemorySearch

    app = MimoApp(start_dir=root, watch=False)
    drawn: dict[str, tuple[float, float]] = {}
    arrived = asyncio.Event()  # set by each stamp: waiting on it costs the app no polling
    samples: list[float] = []
    cpu: list[float] = []
    missed = 0
    first = 0.0
    async with app.run_test(size=(120, 40)) as pilot:
        async def until(predicate: Callable[[], object], timeout: float = 30.0) -> bool:
            deadline = time.monotonic() + timeout
            while not predicate():
                if time.monotonic() > deadline:
                    return False
                await pilot.pause(0.001)
            return True

        async def drawn_within(text: str, timeout: float) -> bool:
            deadline = time.monotonic() + timeout
            while text not in drawn:
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), max(0.0, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    return text in drawn
            return True

        await until(lambda: app.project is not None)
        await pilot.press("f2")
        await until(lambda: app.query(MemoryPane) and "Project memory" in app.query_one(MemoryPane).editor.text)
        search = app.query_one(MemorySearch)
        shown = search._show

        def show_and_stamp(query: str, *found: object) -> None:
            shown(query, *found)
            def stamp() -> None:
                drawn.setdefault(query, (time.perf_counter(), time.process_time()))
                arrived.set()

            app.call_after_refresh(stamp)

        search._show = show_and_stamp  # type: ignore[method-assign]  # observe only: stamps the repaint
        box = search.query_one("#memory-search-input", Input)
        await pilot.press("ctrl+f")
        for number, text in enumerate(typed):
            box.value = ""
            await pilot.pause(0.05)
            for end in range(1, len(text) + 1):
                prefix = text[:end]
                if prefix[-1] == " ":
                    await pilot.press("space")
                    continue
                drawn.pop(prefix.strip(), None)
                started, used = time.perf_counter(), time.process_time()
                await pilot.press(prefix[-1])
                if await drawn_within(prefix.strip(), 60.0 if not samples else 5.0):
                    wall, process = drawn[prefix.strip()]
                    if number == 0 and end == 1:
                        first = (wall - started) * 1000  # the session's first search catches the index up once
                    else:
                        samples.append((wall - started) * 1000)
                        cpu.append((process - used) * 1000)
                else:
                    missed += 1
    return samples, cpu, missed, first


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--queries", type=int, default=200, help="queries per class (rare, mid, common)")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mimo-bench-memory"))
    parser.add_argument("--tiny", action="store_true", help="one small corpus, few queries, in a temp folder")
    parser.add_argument("--ranking-only", action="store_true", help="skip the pane's figures")
    parser.add_argument("--pane-only", action="store_true", help="skip the ranking figures")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    cache = args.cache
    if args.tiny:
        sizes, args.queries, cache = [2000], 10, Path(tempfile.mkdtemp(prefix="mimo-bench-"))
    # The project opened for the pane must not pick up this user's global memory.
    os.environ["XDG_DATA_HOME"] = str(cache / "xdg")
    print(f"sqlite {sqlite3.sqlite_version}; Zipf vocabulary of {VOCABULARY:,} words; chunks of ~{WORDS_PER_CHUNK} words")
    print("targets: search p95 < 5 ms with top 10 = plain bm25's; pane keystroke p95 < 50 ms (at 100k chunks)")
    words = vocabulary()
    try:
        for size in sizes:
            print(f"\n== {size:,} chunks ==")
            if not args.pane_only:
                ranking(cache, size, words, args.queries)
            if not args.ranking_only:
                pane(cache, size, words, max(5, args.queries // 10))
    finally:
        if args.tiny:
            shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
