"""`mimo memory search|check|reindex|context` and `mimo history search` from the shell."""

from __future__ import annotations


import pytest

from mimo_tui.cli import main
from mimo_tui.memory.context import ContextAssembler
from mimo_tui.memory.history_index import HistoryIndex
from mimo_tui.memory.layers import global_memory_dir
from mimo_tui.memory.templates import checkpoint_template
from mimo_tui.project import Project


@pytest.fixture
def in_project(memory_project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(memory_project.root)
    return memory_project


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_search_prints_path_line_score_and_marked_snippet(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    with in_project.workspace.memory_file.open("a", encoding="utf-8") as handle:
        handle.write("- the billing service talks to zanzibarquux over gRPC\n")
    code, out = run(capsys, "memory", "search", "zanzibarquux")
    line = len(in_project.workspace.memory_file.read_text(encoding="utf-8").splitlines())
    assert code == 0
    assert out.startswith(f".mimo/MEMORY.md:{line}  ") and "[zanzibarquux]" in out and "project/memory" in out
    code, out = run(capsys, "memory", "search", "nothingmatchesthis")
    assert code == 1 and "no matches" in out


@pytest.mark.parametrize("query", ['"unbalanced', "( NEAR * -", "AND", "", "café", "🙂"])
def test_odd_queries_exit_0_or_1(in_project: Project, capsys: pytest.CaptureFixture[str], query: str) -> None:
    code, out = run(capsys, "memory", "search", query)
    assert code in (0, 1) and "Traceback" not in out


def test_search_filters_by_scope(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "memory", "search", "preferences", "--scope", "global")
    assert code == 0 and str(global_memory_dir()) in out
    code, _ = run(capsys, "memory", "search", "preferences", "--scope", "project")
    assert code == 1


def test_check_flags_an_over_budget_section(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "memory", "check")
    assert code == 0 and "valid" in out
    with in_project.workspace.memory_file.open("a", encoding="utf-8") as handle:
        handle.write("## Rules\n" + "".join(f"- rule number {i} {'x' * 80}\n" for i in range(300)))
    code, out = run(capsys, "memory", "check")
    assert code == 1 and "section 'Rules' is over budget" in out and ".mimo/MEMORY.md:" in out


def test_reindex_rebuilds(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "memory", "reindex")
    assert code == 0 and "indexed 2 files" in out


def test_context_preview_matches_assembly(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    sessions = in_project.workspace.mimo_dir / "sessions/s7"
    sessions.mkdir(parents=True)
    (sessions / "checkpoint.md").write_text(checkpoint_template("s7"), encoding="utf-8")
    code, out = run(capsys, "memory", "context", "--window", "100000", "--text")
    assert code == 0 and out.startswith("session s7, window 100000 tokens")
    expected = ContextAssembler(in_project.workspace.mimo_dir, global_memory_dir(), display_root=in_project.root).build("s7", 100_000)
    for block in expected.blocks:
        assert f"{block.name:<22} {block.tokens:>6} / {block.cap:<6}" in out
    assert out.rstrip().endswith(expected.text.rstrip())


def test_history_search(in_project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "history", "search", "anything")
    assert code == 1 and "no matches" in out
    HistoryIndex(in_project.workspace.state_db).add("s1", 5, "tool", "tool_output", "ModuleNotFoundError: yaml")
    code, out = run(capsys, "history", "search", "yaml")
    assert code == 0 and out.startswith("s1  #5  ") and "[yaml]" in out
