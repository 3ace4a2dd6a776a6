"""The agent-facing memory surface: each write is one commit, re-indexed at once, inside the writer's sandbox."""

from __future__ import annotations

import pytest

from mimo_tui.memory.layers import open_global_memory
from mimo_tui.memory.surface import MemorySurface
from mimo_tui.memory.validators import validate_file
from mimo_tui.project import Project
from mimo_tui.store import SandboxError, StoreError, Writer

AGENT = Writer("agent", session_id="s1")


def test_append_is_one_commit_and_searchable_at_once(memory_project: Project) -> None:
    surface = MemorySurface(memory_project)
    before = len(memory_project.store.log())
    result = surface.append("Rules", "- run `make check` before every commit", AGENT)
    log = memory_project.store.log()
    assert len(log) == before + 1 and result.commit is not None
    assert log[0].author == "agent" and log[0].message == "memory: agent appended to MEMORY.md § Rules"
    assert memory_project.store.git.out("show", "--name-only", "--format=", log[0].sha).split() == ["MEMORY.md"]
    assert result.problems == []
    hits = surface.index.search("make check", reconcile=False)
    assert hits and hits[0].relpath == "MEMORY.md" and hits[0].heading == "Rules"
    section = surface.read_section("MEMORY.md", "rules")
    assert section is not None and section.text.endswith("- run `make check` before every commit")
    text = memory_project.workspace.memory_file.read_text(encoding="utf-8")
    assert validate_file("MEMORY.md", text) == []
    assert text.index("make check") < text.index("## Architecture decisions")


def test_append_reports_a_budget_problem_after_writing(memory_project: Project) -> None:
    surface = MemorySurface(memory_project)
    result = surface.append("Project context", "- context " * 1200, AGENT)
    assert result.commit is not None
    assert any("'Project context' is over budget" in p.message for p in result.problems)


def test_append_to_an_unknown_section_is_refused(memory_project: Project) -> None:
    surface = MemorySurface(memory_project)
    with pytest.raises(StoreError, match="no section 'Shopping'"):
        surface.append("Shopping", "- milk", AGENT)
    surface.append("Gotchas", "- the CI runner has no network", AGENT)
    assert "## Gotchas\n- the CI runner has no network" in memory_project.workspace.memory_file.read_text(encoding="utf-8")


def test_add_note_creates_notes_with_stamped_entries(memory_project: Project) -> None:
    surface = MemorySurface(memory_project)
    first = surface.add_note("s1", 3, "the flaky test is test_upload", AGENT)
    second = surface.add_note("s1", 4, "port 8080 is taken", AGENT)
    assert first.commit is not None and second.commit is not None
    assert first.commit.sha != second.commit.sha
    text = (memory_project.workspace.mimo_dir / "sessions/s1/notes.md").read_text(encoding="utf-8")
    assert text.count("## [turn ") == 2 and "## [turn 4 · " in text
    assert second.problems == []
    assert [h.type for h in surface.search("flaky", scope="session")] == ["notes"]


def test_writes_respect_the_sandbox(memory_project: Project) -> None:
    surface = MemorySurface(memory_project)
    with pytest.raises(SandboxError):
        surface.append("Rules", "- x", Writer("checkpoint-writer", session_id="s1"))
    with pytest.raises(SandboxError):
        surface.add_note("s1", 1, "x", Writer("subagent", session_id="s1", task_id="T1"))


def test_read_section_by_number_and_in_global_memory(memory_project: Project) -> None:
    surface = MemorySurface(memory_project, open_global_memory())
    memory_project.store.write("sessions/s1/checkpoint.md",
                               "# C\n\n## §1 Active intent\n> fix the bug\n\n## §2 Next concrete action\nrun tests\n", AGENT)
    assert surface.read_section("sessions/s1/checkpoint.md", "§2").text.endswith("run tests")
    assert surface.read_section("sessions/s1/checkpoint.md", "Active intent").line == 3
    assert surface.read_section("sessions/s1/checkpoint.md", "§7") is None
    assert surface.read_section("global:MEMORY.md", "Preferences") is not None
    assert {h.scope for h in surface.search("preferences")} == {"global"}


def test_service_search_filters_by_scope_and_type_words(tmp_path) -> None:
    import subprocess

    from mimo_tui.project import Project

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    from mimo_tui.memory.service import MemoryService

    project = Project.open(tmp_path)
    memory = MemoryService(project)
    project.store.write("MEMORY.md", "# Project memory\n\n## Rules\n\n- quokkafilter in memory\n")
    project.store.write("sessions/s1/notes.md", "# Notes\n\n## [turn 1 · 2026-01-01T00:00:00]\n\nquokkafilter in notes\n")
    both = {hit.relpath for hit in memory.search("quokkafilter")}
    assert both == {"MEMORY.md", "sessions/s1/notes.md"}
    assert {hit.relpath for hit in memory.search("quokkafilter scope:session")} == {"sessions/s1/notes.md"}
    assert {hit.relpath for hit in memory.search("type:memory quokkafilter")} == {"MEMORY.md"}
    memory.close()
