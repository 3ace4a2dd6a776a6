"""The pane's name finder: gathered once, updated per committed file, fuzzy over a bounded set (issue 21, item 2)."""

from __future__ import annotations

import sys
from pathlib import Path

from mimo_tui.memory.finder import MAX_CANDIDATES, NameFinder, label_of
from mimo_tui.memory.layers import PROJECT_ROOT
from mimo_tui.memory.service import MemoryService
from mimo_tui.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))


def test_a_commit_updates_the_names_of_that_file_only(memory_project: Project) -> None:
    memory = MemoryService(memory_project)
    memory_project.store.write("plans/a.md", "# A\n\n## Billing service\nx\n")
    names, _ = memory.search_as_typed("billing")
    assert [(n.relpath, n.heading) for n in names][:1] == [("plans/a.md", "Billing service")]
    index, finder = memory.index, memory.finder
    before = index.generation
    memory_project.store.write("plans/b.md", "# B\n\n## Zanzibar gateway\ny\n")
    assert index.changes_since(before) == {(PROJECT_ROOT, "plans/b.md")}
    names, hits = memory.search_as_typed("zanzibar")
    assert names[0].heading == "Zanzibar gateway" and hits and hits[0].relpath == "plans/b.md"
    memory_project.store.write("plans/b.md", "# B\n\n## Renamed section\ny\n")
    names, _ = memory.search_as_typed("zanzibar gateway")
    assert all(n.heading != "Zanzibar gateway" for n in names)
    assert memory.search_as_typed("renamed section")[0][0].heading == "Renamed section"
    assert finder._generation == index.generation


def test_fuzzy_over_a_bounded_set_agrees_with_scoring_every_name(tmp_path: Path) -> None:
    from rapidfuzz import fuzz, process
    from zipf_corpus import build_index, vocabulary

    index = build_index(tmp_path / "index.db", tmp_path / "mem", 20_000, seed=3)
    finder = NameFinder(index)
    finder.find("warm")
    assert len(finder._candidates("a")) <= MAX_CANDIDATES
    keys = [(root, relpath, 1, "") for root, relpath in finder._by_file] + [
        key for entries in finder._by_file.values() for key in entries if key[3]]
    labels = [label_of(key) for key in keys]
    words = vocabulary()
    for query in (words[400], f"{words[900]} {words[1500]}", words[5000], "f123"):
        best = finder.find(query, limit=1)
        full = process.extract(query, labels, scorer=fuzz.WRatio, limit=1, score_cutoff=50)
        assert best and full and best[0].score == full[0][1], query
    word = next(word for word in words[300:] if len(word) >= 8)
    misspelt = word[:3] + "q" + word[3:]  # no word of the vocabulary holds a q: only close words can match
    found = finder.find(misspelt, limit=5)
    assert found and all(word in entry.heading.split() for entry in found), (misspelt, found)
    index.close()
