"""Dream's deterministic passes on a real memory repo: one `dream` commit, duplicates merged, distinct facts kept,
missing paths flagged, dates made absolute, caps kept, a write outside its sandbox refused, revert byte for byte."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mimo_tui.cli import main
from mimo_tui.maintenance.dream import DREAM, DreamSettings, run_dream
from mimo_tui.memory.templates import PROJECT_MEMORY
from mimo_tui.project import Project
from mimo_tui.store import SandboxError, StoreError


def memory_with(**sections: list[str]) -> str:
    """The MEMORY.md template with entries under the named sections (underscores for spaces)."""
    out = []
    lines = PROJECT_MEMORY.split("\n")
    for i, line in enumerate(lines):
        out.append(line)
        if i > 0 and lines[i - 1].startswith("## "):
            out += sections.get(lines[i - 1][3:].replace(" ", "_"), [])
    return "\n".join(out)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    (root / "src").mkdir(parents=True)
    (root / "src" / "retry.py").write_text("def retry(call):\n    return call()\n\n\nclass RetryPolicy:\n    pass\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return Project.open(root)


def dream(project: Project, **settings: object):
    return run_dream(project.store, project.root, DreamSettings(**settings))  # type: ignore[arg-type]


def memory(project: Project) -> str:
    return project.store.read("MEMORY.md").text or ""


def test_near_duplicates_merge_across_sections_and_distinct_facts_stay(project: Project) -> None:
    project.store.write("MEMORY.md", memory_with(
        Rules=["- Always run the test suite with `pytest -q` before every commit.",
               "- Releases are tagged by hand after the changelog is updated."],
        Discovered_durable_knowledge=[
            "- Always run the test suite with pytest -q before every commit",
            "- **Always** run the test-suite with `pytest -q`, before every commit!",
            "- The API listens on port 8080 in development.",
            "- The API listens on port 8443 in production.",
            "- Run the linter with `ruff check` before pushing.",
            "- Run the formatter with `ruff format` before pushing.",
        ]))
    before = len(project.store.log())
    review = dream(project)
    text = memory(project)
    assert text.lower().count("pytest -q") == 1
    assert "- Always run the test suite with `pytest -q` before every commit." in text  # the better-worded, first one
    for fact in ("port 8080", "port 8443", "`ruff check`", "`ruff format`", "Releases are tagged by hand"):
        assert fact in text
    assert len(review.consolidated) == 2
    log = project.store.log()
    assert len(log) == before + 1 and log[0].author == "dream" and review.commit is not None


def test_a_missing_path_or_symbol_is_marked_unverified_and_what_exists_stays_as_it_was(project: Project) -> None:
    kept = ["- The retry helper lives in `src/retry.py` and `RetryPolicy` configures it.",
            "- `retry()` wraps every client call; see src/retry.py."]
    project.store.write("MEMORY.md", memory_with(Discovered_durable_knowledge=[
        *kept, "- Feature flags are parsed in `src/flags/loader_v2.py`.", "- Flags come from `load_flags_v2()`."]))
    review = dream(project)
    text = memory(project)
    for line in kept:
        assert line in text.split("\n")
    assert "- Feature flags are parsed in `src/flags/loader_v2.py`. [unverified]" in text
    assert "- Flags come from `load_flags_v2()`. [unverified]" in text
    assert {c.why for c in review.updated} == {"not found in the project: src/flags/loader_v2.py",
                                               "not found in the project: load_flags_v2"}
    # A second dream has nothing to do: the marks stand, no commit.
    head = project.store.head().sha
    again = dream(project)
    assert again.commit is None and not again.changed and project.store.head().sha == head
    assert len(again.skipped) == 2


def test_unverified_entries_can_be_dropped_instead(project: Project) -> None:
    project.store.write("MEMORY.md", memory_with(Discovered_durable_knowledge=[
        "- Feature flags are parsed in `src/flags/loader_v2.py`.", "- The helper is `src/retry.py`."]))
    review = dream(project, unverified="drop")
    assert "loader_v2" not in memory(project) and "`src/retry.py`" in memory(project)
    assert [c.before for c in review.deleted] == ["- Feature flags are parsed in `src/flags/loader_v2.py`."]


def test_relative_dates_become_absolute_from_the_lines_commit_date(project: Project,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-10T12:00:00")
    Project.open(project.root).store.write("MEMORY.md", memory_with(Architecture_decisions=[
        "- Moved the cache to SQLite yesterday.", "- Today we dropped Python 3.10 support.",
        "- The schema was frozen last week."]))
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    dream(project)  # the project's store was opened before GIT_AUTHOR_DATE was set: its commits are dated now
    text = memory(project)
    assert "- Moved the cache to SQLite on 2026-03-09." in text
    assert "- On 2026-03-10 we dropped Python 3.10 support." in text
    assert "- The schema was frozen the week of 2026-03-03." in text


def test_an_older_entry_restated_with_a_new_value_is_pruned_as_superseded(project: Project,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-01T12:00:00")
    old = memory_with(Discovered_durable_knowledge=["- The dev server listens on port 8080."])
    Project.open(project.root).store.write("MEMORY.md", old)
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-03-05T12:00:00")
    Project.open(project.root).store.write("MEMORY.md", old.replace("port 8080.", "port 8080.\n- The dev server listens on port 9090.\n"
                                                 "- ~~Deploys go through Jenkins.~~"))
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    review = dream(project)
    text = memory(project)
    assert "port 9090" in text and "port 8080" not in text and "Jenkins" not in text
    assert sorted(c.why.split(" ")[0] for c in review.deleted) == ["marked", "superseded"]


def test_memory_is_kept_under_its_caps_and_rules_survive(project: Project) -> None:
    rules = [f"- Rule {n}: never push on day {n}." for n in range(5)]
    facts = [f"- Fact number {n} about module_{n} holds since build {n * 7}." for n in range(400)]
    project.store.write("MEMORY.md", memory_with(Rules=rules, Discovered_durable_knowledge=facts))
    review = dream(project)
    text = memory(project)
    assert len(text.rstrip("\n").split("\n")) <= 200 and len(text.encode()) <= 10 * 1024
    assert all(rule in text for rule in rules)
    assert "- Fact number 399 about module_399" in text and "- Fact number 0 about" not in text
    assert review.size_after[0] <= 200 and all("caps" in c.why for c in review.deleted)
    small = dream(project, max_lines=40, max_bytes=100_000)
    assert len(memory(project).rstrip("\n").split("\n")) <= 40 and small.deleted


def test_the_dream_role_writes_memory_files_only(project: Project) -> None:
    source = project.root / "src" / "retry.py"
    original = source.read_bytes()
    for target in ("../src/retry.py", str(source)):
        with pytest.raises(StoreError):
            project.store.write(target, "hacked\n", DREAM)
    for target in ("skills/x/SKILL.md", "config.toml", "commands/x.md"):
        with pytest.raises(SandboxError):
            project.store.write(target, "hacked\n", DREAM)
    assert source.read_bytes() == original
    assert project.store.write("MEMORY.md", memory_with(Rules=["- ok"]), DREAM) is not None


def test_reverting_a_dream_restores_memory_byte_for_byte(project: Project) -> None:
    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make test`.", "- Use make test"],
                                                 Discovered_durable_knowledge=["- Config is in `conf/app.toml`."]))
    before = (project.root / ".mimo" / "MEMORY.md").read_bytes()
    review = dream(project)
    assert review.commit is not None and (project.root / ".mimo" / "MEMORY.md").read_bytes() != before
    project.store.revert(review.commit.sha)
    assert (project.root / ".mimo" / "MEMORY.md").read_bytes() == before


def test_mimo_dream_prints_the_review_and_says_when_there_is_nothing_to_do(project: Project, monkeypatch,
                                                                         capsys) -> None:
    monkeypatch.chdir(project.root)
    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make test`.", "- Use make test"]))
    assert main(["dream"]) == 0
    out = capsys.readouterr().out
    assert "1 consolidated, 0 updated, 0 deleted, 0 skipped" in out and "committed" in out
    assert "model pass skipped: offline/agent (offline) is an offline model" in out
    head = project.store.head().sha
    assert main(["dream"]) == 0
    assert "nothing to do" in capsys.readouterr().out and project.store.head().sha == head


def test_automatic_dream_runs_only_when_turned_on_and_due(project: Project) -> None:
    from mimo_tui.services import Services
    from mimo_tui.services.maintenance import scheduled_dream

    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make test`.", "- Use make test"]))
    services = Services()
    services.use_project(project)
    assert scheduled_dream(services) is None  # off by default
    (project.root / ".mimo" / "config.toml").write_text("[dream]\nauto = true\n")
    project.config = Project.open(project.root).config
    review = scheduled_dream(services)
    assert review is not None and review.commit is not None
    project.store.write("MEMORY.md", memory_with(Rules=["- Use `make lint`.", "- Use make lint"]))
    assert scheduled_dream(services) is None  # dreamt today: not due for 7 days
    later = scheduled_dream(services, now=review.commit.timestamp + 7 * 86400 + 1)
    assert later is not None and later.commit is not None
