"""Context assembly: block order, per-block caps, section-aware truncation and the resume line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mimo_tui.memory.context import DEFAULT_CAPS, ContextAssembler, ContextSources, scaled_caps
from mimo_tui.memory.templates import checkpoint_template, notes_entry, notes_template
from mimo_tui.memory.tokens import count_tokens
from mimo_tui.memory.truncation import fit_markdown

ORDER = ["task_ledger", "focus_task", "checkpoint", "active_subagents", "project_memory", "global_memory", "notes",
         "recent_user_messages", "other_memory_files"]


def big_checkpoint(session_id: str, lines: int = 1500) -> str:
    filler = "\n".join(f"- step {i}: edited `src/mod_{i}.py` and ran `pytest -k case_{i}`" for i in range(lines))
    return checkpoint_template(session_id).replace("## §5 Current work\n", f"## §5 Current work\n{filler}\n")


def make_memory(tmp_path: Path) -> tuple[Path, Path]:
    memory = tmp_path / ".mimo"
    (memory / "sessions/s1/tasks/T1").mkdir(parents=True)
    (memory / "sessions/s2").mkdir(parents=True)
    (memory / "MEMORY.md").write_text("# Project memory\n\n## Rules\n- write tests first\n", encoding="utf-8")
    (memory / "sessions/s1/checkpoint.md").write_text(big_checkpoint("s1"), encoding="utf-8")
    (memory / "sessions/s1/notes.md").write_text(notes_template("s1") + "\n" + notes_entry(1, "2026-01-01T00:00:00Z", "remember the port 8080"), encoding="utf-8")
    (memory / "sessions/s1/checkpoint-design.md").write_text("# Design spill-over\nlots\n", encoding="utf-8")
    (memory / "sessions/s2/checkpoint.md").write_text("# Checkpoint of session s2\n", encoding="utf-8")
    global_dir = tmp_path / "global"
    global_dir.mkdir()
    (global_dir / "MEMORY.md").write_text("# Global memory\n\n## Rules\n- answer briefly\n", encoding="utf-8")
    return memory, global_dir


def full_sources(open_work: bool = True) -> ContextSources:
    return ContextSources(
        task_ledger=lambda sid: "- T1 in_progress: build the parser\n- T2 open: docs",
        focus_task=lambda sid: "T1: build the parser",
        active_subagents=lambda sid: "- sub-1 on T1.2",
        recent_user_messages=lambda sid: [f"message number {i} " + "word " * 1400 for i in range(12)],
        has_open_work=lambda sid: open_work,
    )


def test_blocks_come_in_reference_order_with_caps(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    block = ContextAssembler(memory, global_dir, full_sources()).build("s1", 200_000)
    assert [b.name for b in block.blocks] == ORDER
    assert [b.cap for b in block.blocks] == [DEFAULT_CAPS[name] for name in ORDER]
    text = block.text
    positions = [text.index(f'<memory block="{name}"') for name in ORDER]
    assert positions == sorted(positions)
    assert text.endswith(block.resume_line or "")
    for part in block.blocks:
        assert count_tokens(part.text) <= part.cap, part.name
        assert part.tokens <= part.cap
        assert abs(part.tokens - count_tokens(part.text)) <= 3


def test_checkpoint_truncation_keeps_every_heading_and_says_where(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    part = ContextAssembler(memory, global_dir).build("s1", 200_000).block("checkpoint")
    assert part.cut_tokens > 0
    headings = [line for line in part.text.splitlines() if line.startswith("## §")]
    assert len(headings) == 11
    assert re.search(r"\[… \d+ of \d+ tokens cut from §5 Current work.*; full file: .mimo/sessions/s1/checkpoint.md\]", part.text)
    assert "step 0:" in part.text and "step 1499:" not in part.text


@pytest.mark.parametrize("cap", [150, 400, 1000, 3000])
def test_fit_markdown_enforces_the_cap_and_keeps_headings(cap: int) -> None:
    text = big_checkpoint("s9", 400)
    fitted = fit_markdown(text, cap, "x.md", count_tokens)
    assert count_tokens(fitted.text) <= cap
    assert fitted.tokens == count_tokens(fitted.text)
    if cap >= 400:
        assert sum(line.startswith("## §") for line in fitted.text.splitlines()) == 11
    assert fitted.text.rstrip().endswith("full file: x.md]")


def test_bodies_are_filled_in_order() -> None:
    text = "# T\n\n## A\n" + "alpha line\n" * 50 + "\n## B\n" + "beta line\n" * 50
    fitted = fit_markdown(text, 200, "t.md", count_tokens)
    assert "alpha line" in fitted.text and "beta line" not in fitted.text
    assert "## B" in fitted.text


def test_resume_line_only_with_a_checkpoint_and_open_work(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    assert ContextAssembler(memory, global_dir, full_sources(True)).build("s1", 200_000).resume_line
    assert ContextAssembler(memory, global_dir, full_sources(False)).build("s1", 200_000).resume_line is None
    no_checkpoint = ContextAssembler(memory, global_dir, full_sources(True)).build("s3", 200_000)
    assert no_checkpoint.resume_line is None and no_checkpoint.block("checkpoint").empty


def test_recent_messages_drop_the_oldest_and_cap_each(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    part = ContextAssembler(memory, global_dir, full_sources()).build("s1", 200_000).block("recent_user_messages")
    assert "message number 11" in part.text and "message number 0 " not in part.text
    kept = re.findall(r"message number (\d+)", part.text)
    assert kept == sorted(kept, key=int) and kept[-1] == "11"
    long_message = ContextSources(recent_user_messages=lambda sid: ["huge " * 5000])
    single = ContextAssembler(memory, None, long_message).build("s1", 200_000).block("recent_user_messages")
    assert 1500 < single.tokens <= 2000 + 20


def test_notes_other_files_and_global_blocks(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    block = ContextAssembler(memory, global_dir).build("s1", 200_000)
    assert "port 8080" in block.block("notes").text
    others = block.block("other_memory_files").text
    assert "sessions/s1/checkpoint-design.md: Design spill-over" in others
    assert "sessions/s2/checkpoint.md" in others
    assert others.index("checkpoint-design") < others.index("sessions/s2")
    assert "sessions/s1/checkpoint.md" not in others and "- MEMORY.md" not in others
    assert "answer briefly" in block.block("global_memory").text
    (memory / "sessions/s1/notes.md").write_text(notes_template("s1"), encoding="utf-8")
    assert ContextAssembler(memory, global_dir).build("s1", 200_000).block("notes").empty


def test_small_windows_scale_every_cap(tmp_path: Path) -> None:
    caps = scaled_caps(DEFAULT_CAPS, 32_000)
    assert sum(caps.values()) <= 16_000
    assert caps["checkpoint"] < DEFAULT_CAPS["checkpoint"]
    memory, global_dir = make_memory(tmp_path)
    block = ContextAssembler(memory, global_dir, full_sources()).build("s1", 32_000)
    assert block.tokens <= 16_000 + 50
    assert all(count_tokens(part.text) <= part.cap for part in block.blocks)


def test_assembly_follows_file_changes(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    assembler = ContextAssembler(memory, global_dir)
    assert "write tests first" in assembler.build("s1", 200_000).text
    (memory / "MEMORY.md").write_text("# Project memory\n\n## Rules\n- a brand new rule here\n", encoding="utf-8")
    text = assembler.build("s1", 200_000).text
    assert "brand new rule" in text and "write tests first" not in text


def test_recent_messages_say_a_repeated_prompt_once_where_it_was_last_said(tmp_path: Path) -> None:
    # Issue 16: a session of "continue" prompts filled the user's-recent-messages block with the same line.
    memory, _ = make_memory(tmp_path)
    said = ["continue"] * 40 + ["fix the parser: keep vendor/ untouched"] + ["continue"] * 30 + ["run the tests"]
    sources = ContextSources(recent_user_messages=lambda sid: said)
    block = ContextAssembler(memory, None, sources).build("s1", 200_000).block("recent_user_messages")
    assert block.text.count("> continue") == 1
    body = block.text.split("\n", 1)[1]
    assert body.index("fix the parser") < body.index("> continue") < body.index("run the tests")


def test_the_memory_block_says_once_what_the_checkpoint_already_holds(tmp_path: Path) -> None:
    # Issue 16 (bench/long_session.py at 0.52 of the baseline): the writer copies each durable fact into both
    # checkpoint.md and MEMORY.md, and quotes the user's request verbatim, so a rebuilt context carried them twice.
    memory, global_dir = make_memory(tmp_path)
    fact = "- FACT-3: service s3 listens on port 40003"
    request = "migrate the billing service to the new queue, keep the old topic names"
    checkpoint = (checkpoint_template("s1")
                  .replace("## §1 Active intent\n", f"## §1 Active intent\n> {request}\n")
                  .replace("## §7 Discovered knowledge\n", f"## §7 Discovered knowledge\n{fact}\n"))
    (memory / "sessions/s1/checkpoint.md").write_text(checkpoint, encoding="utf-8")
    (memory / "MEMORY.md").write_text(
        f"# Project memory\n\n## Rules\n- write tests first\n\n## Discovered durable knowledge\n"
        f"{fact} (session s1, 2026-12-05)\n- the CI runs on port 9000 only\n", encoding="utf-8")
    sources = ContextSources(recent_user_messages=lambda sid: ["hello there, start with the queue", request, "ok"])
    block = ContextAssembler(memory, global_dir, sources).build("s1", 200_000)
    assert block.text.count("FACT-3: service s3 listens on port 40003") == 1
    assert block.text.count(request) == 1
    project = block.block("project_memory")
    assert "write tests first" in project.text and "port 9000 only" in project.text
    assert "(1 entry also in the session checkpoint above, not repeated)" in project.text
    recent = block.block("recent_user_messages")
    assert "> hello there, start with the queue" in recent.text and "> ok" in recent.text
    assert project.tokens == count_tokens(project.text) and recent.tokens == count_tokens(recent.text)
    # Without a checkpoint nothing is left out.
    (memory / "sessions/s1/checkpoint.md").unlink()
    alone = ContextAssembler(memory, global_dir, sources).build("s1", 200_000)
    assert alone.text.count("FACT-3") == 1 and alone.text.count(request) == 1 and "not repeated" not in alone.text


def test_injected_checkpoint_has_headings_and_bodies_without_the_writer_instructions(tmp_path: Path) -> None:
    memory, global_dir = make_memory(tmp_path)
    template = checkpoint_template("s1")
    instructions = re.findall(r"^_[^\n]*_$", template, re.M)
    assert len(instructions) >= 11
    part = ContextAssembler(memory, global_dir).build("s1", 200_000).block("checkpoint")
    assert all(f"## §{n} " in part.text for n in range(1, 12))
    assert "- step 0: edited `src/mod_0.py`" in part.text
    section_instructions = [line for line in instructions if line not in template.split("\n## ")[0]]
    assert not [line for line in section_instructions if line in part.text]
    assert part.tokens == count_tokens(part.text)


def test_the_users_messages_in_the_tail_count_toward_the_recent_messages_cap(tmp_path: Path) -> None:
    # Issue 16: a rebuilt context carried the user's words twice over budget: the tail's user messages verbatim, and
    # beside them up to the whole cap of older ones. REFERENCE's cap is for the user's recent messages in all.
    memory, _ = make_memory(tmp_path)
    older = [f"older request {i}: " + "word " * 1000 for i in range(20)]
    in_tail = [f"tail request {i}: " + "word " * 1000 for i in range(3)] + ["older request 19: " + "word " * 1000]
    alone = ContextAssembler(memory, None, ContextSources(recent_user_messages=lambda sid: older)).build("s1", 200_000)
    beside = ContextAssembler(memory, None, ContextSources(recent_user_messages=lambda sid: older,
                                                           user_messages_in_context=lambda sid: in_tail)
                              ).build("s1", 200_000)
    block = beside.block("recent_user_messages")
    tail_tokens = sum(count_tokens(m) + 3 for m in in_tail)
    assert block.tokens + tail_tokens <= DEFAULT_CAPS["recent_user_messages"]
    assert block.tokens < alone.block("recent_user_messages").tokens - tail_tokens + 200
    # Not said twice: a message the tail holds is left out; the newest older ones stay, the oldest go first.
    assert "tail request" not in block.text and "older request 19:" not in block.text
    assert "older request 18:" in block.text and "older request 0:" not in block.text
    assert block.cut_tokens > 0


def test_memory_files_send_their_entries_not_their_templates_empty_sections(tmp_path: Path) -> None:
    # Issue 16 (bench/long_session.py): every request of a session carried the project's and the user's MEMORY.md
    # templates, 150 tokens of headings with nothing under them, before and after each rebuild.
    from mimo_tui.memory.templates import GLOBAL_MEMORY, PROJECT_MEMORY

    memory, global_dir = make_memory(tmp_path)
    (memory / "MEMORY.md").write_text(PROJECT_MEMORY, encoding="utf-8")
    (global_dir / "MEMORY.md").write_text(GLOBAL_MEMORY.replace("## Preferences\n", "## Preferences\n### Editors\n- vim, tabs of 4\n"),
                                          encoding="utf-8")
    block = ContextAssembler(memory, global_dir).build("s1", 200_000)
    assert block.block("project_memory").empty and block.block("project_memory").tokens == 0
    assert 'block="project_memory"' not in block.text
    kept = block.block("global_memory")
    assert "## Preferences\n### Editors\n- vim, tabs of 4" in kept.text
    assert "## About the user" not in kept.text and "## Rules" not in kept.text and "## Durable knowledge" not in kept.text
    assert kept.text.startswith('<memory block="global_memory"') and "# Global memory" in kept.text
    assert kept.tokens == count_tokens(kept.text)
