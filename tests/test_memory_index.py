"""The FTS5 memory index: consistency on update and delete, odd queries, reconcile, rebuild."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mimo_tui.memory.index import MemoryIndex, chunk_text
from mimo_tui.memory.layers import PROJECT_ROOT
from mimo_tui.project import Project
from mimo_tui.store import Writer

HOSTILE = ['"unbalanced', "( NEAR * -", "AND", "OR", "NOT", "", "   ", "🙂", "NEAR(a b, 3)", "col:word", "a*", "-x",
           "((", "))", "'", '""', "^start", "{a b}", "AND OR NOT", "\x00", "x" * 5000, "💥 billing ☃"]


def make_index(project: Project) -> MemoryIndex:
    return MemoryIndex(project.workspace.index_db, {PROJECT_ROOT: project.workspace.mimo_dir})


def write(project: Project, relpath: str, text: str) -> None:
    path = project.workspace.mimo_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def found(index: MemoryIndex, query: str, **filters: object) -> list[str]:
    return [hit.relpath for hit in index.search(query, **filters)]


def test_search_finds_and_forgets_after_update_and_delete(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "plans/a.md", "# Plan\n\n## Steps\n- talk to zanzibarquux over gRPC\n")
    assert found(index, "zanzibarquux") == ["plans/a.md"]
    path = memory_project.workspace.mimo_dir / "plans/a.md"
    path.write_text("# Plan\n\n## Steps\n- talk to plainword over gRPC\n- and more\n", encoding="utf-8")
    assert found(index, "zanzibarquux") == []
    assert found(index, "plainword") == ["plans/a.md"]
    path.unlink()
    assert found(index, "plainword") == []
    assert index.counts()[0] == 1  # only MEMORY.md is left


def test_fts_rows_match_content_after_many_rewrites(memory_project: Project) -> None:
    index = make_index(memory_project)
    for round_number in range(5):
        write(memory_project, "plans/a.md", f"# Plan\n\n## Step\nword{round_number} shared\n")
        index.reconcile()
    db = index._db
    # An external-content table with stale tokens would still match words of earlier rounds.
    for round_number in range(4):
        assert db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (f'"word{round_number}"',)).fetchone()[0] == 0
    assert db.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES('integrity-check', 1)") is not None
    assert found(index, "word4") == ["plans/a.md"]


def test_unicode_and_diacritics(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "plans/u.md", "# Ünïcode\n\n## Café notes\nThe café on Straße 5 serves crème brûlée; 東京 branch too.\n")
    assert found(index, "cafe") == ["plans/u.md"]
    assert found(index, "CAFÉ") == ["plans/u.md"]
    assert found(index, "creme brulee") == ["plans/u.md"]
    assert found(index, "straße") == ["plans/u.md"]
    assert found(index, "東京") == ["plans/u.md"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_raise(memory_project: Project, query: str) -> None:
    index = make_index(memory_project)
    write(memory_project, "plans/b.md", "# B\n\n## Notes\nthe billing service and a NEAR miss\n")
    hits = index.search(query)
    assert isinstance(hits, list)
    if "billing" in query:
        assert [hit.relpath for hit in hits] == ["plans/b.md"]


def test_hit_points_at_the_matching_line_with_a_marked_snippet(memory_project: Project) -> None:
    index = make_index(memory_project)
    lines = ["# Big", "", "## Section"] + [f"- filler line {i}" for i in range(30)] + ["- the needle is quuxneedle here"]
    write(memory_project, "plans/big.md", "\n".join(lines) + "\n")
    hit = index.search("quuxneedle")[0]
    assert hit.line == len(lines)
    assert hit.heading == "Section"
    assert hit.marked("<", ">").count("<quuxneedle>") == 1
    plain, spans = hit.spans()
    assert [plain[a:b] for a, b in spans] == ["quuxneedle"]
    assert (hit.scope, hit.type) == ("project", "plan")


def test_long_sections_are_chunked_with_their_line_numbers() -> None:
    text = "# T\n\n## S\n" + "\n".join(f"line {i}" for i in range(100)) + "\n"
    chunks = chunk_text(text)
    body_chunks = [c for c in chunks if c.heading == "S"]
    assert len(body_chunks) >= 3
    assert body_chunks[0].body_line == 4
    assert body_chunks[1].body_line == 4 + body_chunks[0].body.count("\n") + 1
    assert all(c.line == 3 for c in body_chunks)


def test_scope_and_type_filters(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "sessions/s1/notes.md", "# N\n\n## [turn 1 · 2026-01-01T00:00:00Z]\nbanana split\n")
    write(memory_project, "sessions/s1/checkpoint.md", "# C\n\n## §5 Current work\nbanana bread\n")
    write(memory_project, "skills/cook/SKILL.md", "---\nname: cook\n---\n# Cook\nbanana pancakes\n")
    assert sorted(found(index, "banana")) == ["sessions/s1/checkpoint.md", "sessions/s1/notes.md", "skills/cook/SKILL.md"]
    assert found(index, "banana", type="notes") == ["sessions/s1/notes.md"]
    assert sorted(found(index, "banana", scope="session")) == ["sessions/s1/checkpoint.md", "sessions/s1/notes.md"]
    assert found(index, "banana", scope="project") == ["skills/cook/SKILL.md"]
    assert found(index, "banana", session_id="s2") == []
    assert found(index, "banana", scope=["global"]) == []


def test_relative_score_floor_drops_weak_hits(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "plans/strong.md", "# S\n\n## zebra\nzebra zebra zebra stripes\n")
    write(memory_project, "plans/weak.md", "# W\n\n## Other\n" + "filler words " * 400 + "zebra\n")
    hits = index.search("zebra")
    assert hits[0].relpath == "plans/strong.md"
    assert all(hit.score >= 0.15 * hits[0].score for hit in hits)
    assert "plans/weak.md" not in [hit.relpath for hit in hits]


def test_very_common_terms_still_answer_and_rare_terms_win(memory_project: Project) -> None:
    index = make_index(memory_project)
    for number in range(60):
        write(memory_project, f"plans/p{number}.md", "# P\n\n" + "".join(f"## S{j}\ncommon text here\n" for j in range(80)))
    write(memory_project, "plans/rare.md", "# R\n\n## R\ncommon and rarissimo\n")
    assert index.search("common", limit=5)
    assert found(index, "common rarissimo") == ["plans/rare.md"]


def test_external_edit_new_file_and_deletion_are_reconciled(memory_project: Project) -> None:
    index = make_index(memory_project)
    index.reconcile()
    memory = memory_project.workspace.memory_file
    with memory.open("a", encoding="utf-8") as handle:
        handle.write("- an edit made in another editor: kumquat\n")
    write(memory_project, "plans/new.md", "# New\nkumquat jam\n")
    report = index.reconcile()
    assert (report.indexed, report.pruned) == (2, 0)
    assert sorted(found(index, "kumquat")) == ["MEMORY.md", "plans/new.md"]
    (memory_project.workspace.mimo_dir / "plans/new.md").unlink()
    assert index.reconcile().pruned == 1
    assert index.reconcile().indexed == 0


def test_same_size_rewrite_is_caught_by_mtime(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "plans/x.md", "# X\nalpha\n")
    assert found(index, "alpha") == ["plans/x.md"]
    path = memory_project.workspace.mimo_dir / "plans/x.md"
    path.write_text("# X\nomega\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert found(index, "alpha") == []
    assert found(index, "omega") == ["plans/x.md"]


def test_deleting_index_db_loses_nothing(memory_project: Project) -> None:
    write(memory_project, "plans/keep.md", "# Keep\n\n## K\npersimmon\n")
    index = make_index(memory_project)
    before = [(h.relpath, h.line, h.snippet) for h in index.search("persimmon")]
    index.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{memory_project.workspace.index_db}{suffix}").unlink(missing_ok=True)
    again = make_index(memory_project)
    assert [(h.relpath, h.line, h.snippet) for h in again.search("persimmon")] == before


def test_damaged_index_db_is_rebuilt(memory_project: Project) -> None:
    write(memory_project, "plans/keep.md", "# Keep\npersimmon\n")
    memory_project.workspace.index_db.write_bytes(b"this is not a database" * 100)
    assert found(make_index(memory_project), "persimmon") == ["plans/keep.md"]


def test_rebuild_from_nothing_matches_incremental(memory_project: Project) -> None:
    index = make_index(memory_project)
    for number in range(250):
        write(memory_project, f"plans/p{number}.md", f"# P{number}\n\n## Body\nitem{number} fig\n")
    index.reconcile()
    incremental = index.counts()
    report = index.rebuild()
    assert report.indexed == 251 and index.counts() == incremental
    assert found(index, "item123") == ["plans/p123.md"]
    write(memory_project, "plans/p5.md", "# P5\nchanged\n")
    assert found(index, "item5") == []  # triggers are back after the bulk load


def test_store_commits_reindex_without_a_reconcile(memory_project: Project) -> None:
    index = make_index(memory_project)
    index.reconcile()
    stop = index.follow(memory_project.store, PROJECT_ROOT)
    memory_project.store.write("plans/c.md", "# C\ntangerine\n", Writer("user"))
    assert [h.relpath for h in index.search("tangerine", reconcile=False)] == ["plans/c.md"]
    memory_project.store.delete("plans/c.md", Writer("user"))
    assert index.search("tangerine", reconcile=False) == []
    stop()


def test_runs_and_cache_are_not_indexed(memory_project: Project) -> None:
    index = make_index(memory_project)
    write(memory_project, "runs/r1/skill.md", "# Run\nloquat\n")
    write(memory_project, "cache/x.md", "# Cache\nloquat\n")
    assert found(index, "loquat") == []


def test_reconcile_of_unchanged_files_is_fast(memory_project: Project) -> None:
    index = make_index(memory_project)
    for number in range(300):
        write(memory_project, f"plans/p{number}.md", f"# P{number}\nbody\n")
    index.reconcile()
    started = time.perf_counter()
    report = index.reconcile()
    assert report.unchanged == 301 and report.indexed == 0
    assert time.perf_counter() - started < 0.5


def test_fuzzy_finder_over_files_and_headings(memory_project: Project) -> None:
    from mimo_tui.memory.finder import find

    index = make_index(memory_project)
    write(memory_project, "sessions/s1/checkpoint.md", "# Checkpoint\n\n## §5 Current work\nx\n\n## §8 Errors and fixes\ny\n")
    best = find(index, "errors fixes")[0]
    assert (best.relpath, best.line, best.heading) == ("sessions/s1/checkpoint.md", 6, "§8 Errors and fixes")
    assert find(index, "MEMORY")[0].relpath == "MEMORY.md"
    assert {entry.relpath for entry in find(index, "")} == {"MEMORY.md", "sessions/s1/checkpoint.md"}
