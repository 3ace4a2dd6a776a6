"""Validators of the memory layers: templates are clean; budgets, headings and entries are checked."""

from __future__ import annotations

from pathlib import Path

from mimo_tui.memory.templates import (
    GLOBAL_MEMORY,
    PROJECT_MEMORY,
    checkpoint_template,
    notes_entry,
    notes_template,
    progress_template,
    spill_line,
)
from mimo_tui.memory.validators import ERROR, WARNING, validate_file, validate_repo

STAMP = "2026-11-23T10:00:00Z"


def messages(problems: list) -> list[str]:
    return [f"{p.severity}:{p.line}:{p.message}" for p in problems]


def test_templates_are_valid() -> None:
    assert validate_file("MEMORY.md", PROJECT_MEMORY) == []
    assert validate_file("MEMORY.md", GLOBAL_MEMORY, root="global") == []
    assert validate_file("sessions/s1/checkpoint.md", checkpoint_template("s1")) == []
    assert validate_file("sessions/s1/notes.md", notes_template("s1") + "\n" + notes_entry(2, STAMP, "x")) == []
    assert validate_file("sessions/s1/tasks/T1.2/progress.md", progress_template("T1.2", STAMP)) == []


def test_checkpoint_template_has_eleven_numbered_sections() -> None:
    headings = [line for line in checkpoint_template("s").splitlines() if line.startswith("## ")]
    assert len(headings) == 11
    assert headings[0] == "## §1 Active intent" and headings[-1] == "## §11 Open notes"


def test_over_budget_section_is_an_error_named_by_heading() -> None:
    text = PROJECT_MEMORY.replace("## Rules\n", "## Rules\n" + "- rule with many words in it\n" * 600)
    problems = validate_file("MEMORY.md", text)
    over = [p for p in problems if "over budget" in p.message]
    assert len(over) == 1 and over[0].severity == ERROR and "'Rules'" in over[0].message
    assert over[0].line == text.splitlines().index("## Rules") + 1


def test_missing_and_renamed_headings() -> None:
    text = PROJECT_MEMORY.replace("## Architecture decisions", "## Architecture decision log").replace(
        "## Discovered durable knowledge\n", "")
    found = messages(validate_file("MEMORY.md", text))
    assert any("looks renamed; expected '## Architecture decisions'" in m and m.startswith("error") for m in found)
    assert any("missing heading '## Discovered durable knowledge'" in m for m in found)


def test_dream_sections_are_allowed_and_strays_warned() -> None:
    text = PROJECT_MEMORY + "\n## Patterns\n- x\n\n## Gotchas\n- y\n\n## Shopping list\n- milk\n"
    problems = validate_file("MEMORY.md", text)
    assert [(p.severity, p.message) for p in problems] == [(WARNING, "unexpected section 'Shopping list'")]


def test_checkpoint_problems() -> None:
    text = checkpoint_template("s1").replace("## §3 Directives for this session", "## §3 Orders").replace(
        "## §9 Live resources\n_Branch, uncommitted files, running processes, ports._\n", "")
    text = text.replace("## §5 Current work\n", "## §5 Current work\n" + "did a thing with `src/app.py` again\n" * 400)
    text += "\n## Extra\nstuff\n"
    found = messages(validate_file("sessions/s1/checkpoint.md", text))
    assert any("'§3 Orders' looks renamed; expected '## §3 Directives for this session'" in m for m in found)
    assert any("missing heading '## §9 Live resources'" in m for m in found)
    assert any("'§5 Current work' is over budget" in m for m in found)
    assert any("'Extra' is not one of the eleven" in m for m in found)


def test_checkpoint_sections_out_of_order() -> None:
    text = checkpoint_template("s1")
    first, second, third = text.index("## §1"), text.index("## §2"), text.index("## §3")
    swapped = text[:first] + text[second:third] + text[first:second] + text[third:]
    found = messages(validate_file("sessions/s/checkpoint.md", swapped))
    assert found == [f"error:{swapped.splitlines().index('## §1 Active intent') + 1}:section '§1 Active intent' is out of order"]


def test_spill_line_pointing_nowhere_is_warned(tmp_path: Path) -> None:
    folder = tmp_path / "mem"
    (folder / "sessions/s1").mkdir(parents=True)
    text = checkpoint_template("s1").replace("## §10 Design decisions\n", "## §10 Design decisions\n_x_\n"
                                             + spill_line("design", "twelve decisions about storage") + "\n")
    (folder / "sessions/s1/checkpoint.md").write_text(text, encoding="utf-8")
    problems = validate_repo(folder)["sessions/s1/checkpoint.md"]
    assert [p.message for p in problems] == ["spill-over file checkpoint-design.md does not exist"]
    (folder / "sessions/s1/checkpoint-design.md").write_text("# Design\n", encoding="utf-8")
    assert validate_repo(folder) == {}


def test_malformed_notes_entries() -> None:
    text = notes_template("s1") + "\n## [turn 2 · yesterday]\nx\n\n## turn three\ny\n\n" + notes_entry(4, STAMP, "ok")
    problems = validate_file("sessions/s1/notes.md", text)
    assert [p.severity for p in problems] == [ERROR, ERROR]
    assert "not an ISO-8601" in problems[0].message and "malformed entry" in problems[1].message
    assert problems[1].line == text.splitlines().index("## turn three") + 1


def test_progress_front_matter_and_sections() -> None:
    good = progress_template("T1", STAMP)
    no_front = good.split("---\n", 2)[2]
    assert any("missing front matter" in p.message for p in validate_file("sessions/s/tasks/T1/progress.md", no_front))
    bad_stamp = good.replace(STAMP, "soon")
    problem = validate_file("sessions/s/tasks/T1/progress.md", bad_stamp)[0]
    assert problem.line == 2 and "'soon'" in problem.message
    no_section = good.replace("## Verbatim commands", "## Commands")
    assert [p.message for p in validate_file("sessions/s/tasks/T1/progress.md", no_section)] == [
        "missing heading '## Verbatim commands'"]


def test_validate_repo_reports_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "MEMORY.md").write_bytes(b"\xff\xfe broken")
    problems = validate_repo(tmp_path)["MEMORY.md"]
    assert problems[0].severity == ERROR and "UTF-8" in problems[0].message


def test_a_memory_file_that_is_a_folder_is_an_error(tmp_path: Path) -> None:
    """`memory check` passed when MEMORY.md was a directory (issue 19, item 10)."""
    (tmp_path / "MEMORY.md").mkdir()
    (tmp_path / "MEMORY.md" / "inside.txt").write_text("x")
    (tmp_path / "sessions" / "s1" / "checkpoint.md").mkdir(parents=True)
    (tmp_path / "outside.md").write_text("# elsewhere\n")
    (tmp_path / "notes-link.md").symlink_to(tmp_path / "outside.md")
    found = validate_repo(tmp_path)
    assert [(p.severity, p.message) for p in found["MEMORY.md"]] == [(ERROR, "is a folder, not a file")]
    assert found["sessions/s1/checkpoint.md"][0].severity == ERROR
    assert found["notes-link.md"][0].severity == WARNING and "symbolic link" in found["notes-link.md"][0].message


def test_memory_check_fails_when_memory_md_is_a_folder(git_project: Path) -> None:
    import os
    import subprocess
    import sys

    mimo = lambda *args: subprocess.run([sys.executable, "-m", "mimo_tui", *args], cwd=git_project,  # noqa: E731
                                        capture_output=True, text=True, env=os.environ.copy())
    assert mimo("memory", "check").returncode == 0
    memory = git_project / ".mimo" / "MEMORY.md"
    memory.unlink()
    memory.mkdir()
    out = mimo("memory", "check")
    assert out.returncode == 1 and "MEMORY.md:1: error: is a folder, not a file" in out.stdout, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
