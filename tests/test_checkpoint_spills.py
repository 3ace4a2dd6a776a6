"""A spilled checkpoint section survives the next writer call: what the writer is shown and how its answer is merged
never lose what went to `checkpoint-<topic>.md`, and a pointer line always names a file that holds the section."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from mimo_tui.memory.templates import CHECKPOINT_SECTIONS
from mimo_tui.memory.validators import validate_repo
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply
from tests.fixtures.scripted_long_session import kind_of, text_of
from tests.test_checkpoint_writer import use_server

LITERAL = ("- decision 9999: the staging database listens on port 5433, "
           "started by `pg_ctl -D /srv/pg14 -o '-p 5433' start`")
POINTER = re.compile(r"→ spilled to (checkpoint-[a-z0-9-]+\.md)")


def decisions(count: int) -> str:
    return "\n".join(f"- decision {i}: keep module_{i}.py as it is" for i in range(count))


def writer_reply(body: dict[str, Any], sections: dict[int, str]) -> str:
    """A checkpoint answer with `sections` as given and "Nothing of note." elsewhere (§1 quotes the request)."""
    prompt = "\n".join(text_of(m) for m in body["messages"][1:])
    intent = re.search(r"verbatim:\n> ([^\n]*)", prompt)
    parts = []
    for number, spec in enumerate(CHECKPOINT_SECTIONS, 1):
        default = f"> {intent.group(1)}" if number == 1 and intent else "Nothing of note."
        parts += [f"## §{number} {spec.title}", f"_{spec.instruction}_", "", sections.get(number, default), ""]
    return "\n".join(parts)


def shown_section(body: dict[str, Any], number: int) -> str:
    """The body of section `number` in the previous checkpoint the writer was shown."""
    prompt = text_of(body["messages"][1])
    previous = prompt.split("Previous checkpoint:\n", 1)[1]
    previous = re.split(r"\n\n(?:Session notes \(folded|Task tree \(from the task store\))", previous)[0]
    match = re.search(rf"^## §{number} [^\n]*\n(.*?)(?=^## §|\Z)", previous, re.S | re.M)
    return match.group(1).strip() if match else ""


def reachable(folder: Path, number: int) -> str:
    """Section `number` as a reader of checkpoint.md gets it: its body, and the file its pointer line names."""
    text = (folder / "checkpoint.md").read_text()
    title = CHECKPOINT_SECTIONS[number - 1].title
    section = text.split(f"## §{number} {title}")[1].split("\n## §")[0]
    pointed = POINTER.search(section)
    return section + ((folder / pointed.group(1)).read_text() if pointed else "")


def assert_spills_consistent(folder: Path) -> None:
    """Every pointer names an existing file, and every section's spill file is named by its section's pointer."""
    text = (folder / "checkpoint.md").read_text()
    named = set(POINTER.findall(text))
    for name in named:
        assert (folder / name).is_file(), f"{name} is named in checkpoint.md but missing"
    topics = {re.sub(r"[^a-z0-9]+", "-", spec.title.lower()).strip("-") for spec in CHECKPOINT_SECTIONS}
    stale = {p.name for p in folder.glob("checkpoint-*.md") if p.stem[len("checkpoint-"):] in topics} - named
    assert not stale, f"spill files no section points to: {stale}"


async def run_writer(project: AgentProject, agent: Any) -> None:
    assert agent.keeper.writer.request("test") == "started"
    assert await agent.keeper.finish(30)


def git_history(project: AgentProject, relpath: str) -> str:
    return subprocess.run(["git", "--git-dir", str(project.root / ".mimo" / ".git"), "log", "-p", "--", relpath],
                          capture_output=True, text=True, check=True).stdout


async def _spilled_then_rewritten(project: AgentProject, server: LocalOpenAIServer, planted: str,
                                  second: Any) -> Path:
    """Call 1 plants §10 over its budget (spilled); call 2 answers §10 with `second(shown_body)`."""
    use_server(project, server)
    calls: list[str] = []

    def respond(body: dict) -> Reply:
        assert kind_of(body) == "writer"
        calls.append("writer")
        if len(calls) == 1:
            return Reply(text=writer_reply(body, {10: planted}))
        return Reply(text=writer_reply(body, {10: second(shown_section(body, 10))}))

    server.responder = respond
    agent = project.open(RecordedEvents())
    folder = project.root / ".mimo" / "sessions" / agent.session_id
    project.services.sessions.add_message(agent.session_id, 1, "user", "TURN-1: go")
    await run_writer(project, agent)
    assert "→ spilled to checkpoint-design-decisions.md" in (folder / "checkpoint.md").read_text()
    project.services.sessions.add_message(agent.session_id, 2, "user", "TURN-2: decide one more thing")
    await run_writer(project, agent)
    assert len(calls) == 2
    return folder


def keep_listed_and_add(shown: str) -> str:
    """What a model does that keeps what it was shown (the list items) and records one new decision."""
    kept = [line for line in shown.splitlines() if line.startswith("- ")]
    return "\n".join([*kept, "- decision 10000: the new one"])


async def test_a_spilled_section_the_writer_rewrites_keeps_its_literal_values(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    folder = await _spilled_then_rewritten(agent_project, openai_server, f"{decisions(400)}\n{LITERAL}",
                                           keep_listed_and_add)
    section = reachable(folder, 10)
    assert LITERAL in section and "- decision 10000: the new one" in section and "- decision 0: keep" in section
    assert_spills_consistent(folder)
    assert not validate_repo(agent_project.root / ".mimo")


async def test_a_spilled_section_longer_than_the_writer_is_shown_keeps_what_it_was_not_shown(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    shown: list[str] = []

    def rewrite(body: str) -> str:
        shown.append(body)
        return keep_listed_and_add(body)

    folder = await _spilled_then_rewritten(agent_project, openai_server, f"{decisions(1000)}\n{LITERAL}", rewrite)
    # The writer sees a bounded part of a very long spilled section, and is told the rest is kept.
    assert LITERAL not in shown[0] and "not shown" in shown[0]
    section = reachable(folder, 10)
    assert LITERAL in section and "- decision 999: keep" in section and "- decision 10000: the new one" in section
    assert_spills_consistent(folder)


async def test_a_spilled_section_the_writer_leaves_empty_or_points_at_keeps_its_file(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    folder = await _spilled_then_rewritten(agent_project, openai_server, f"{decisions(400)}\n{LITERAL}",
                                           lambda shown: "")
    assert LITERAL in reachable(folder, 10)
    assert_spills_consistent(folder)


async def test_a_spilled_section_rewritten_short_goes_inline_and_its_old_file_stays_in_history(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    folder = await _spilled_then_rewritten(agent_project, openai_server, f"{decisions(400)}\n{LITERAL}",
                                           lambda shown: "- decision 1: superseded by the rewrite; one module now")
    section = reachable(folder, 10)
    assert "superseded by the rewrite" in section and "→ spilled" not in section
    assert_spills_consistent(folder)  # no stale spill file left beside an inline section
    history = git_history(agent_project, f"sessions/{folder.name}/checkpoint-design-decisions.md")
    assert LITERAL in history  # the dropped content is still in the memory repo's history


async def test_notes_folded_into_a_spilled_section_survive_the_next_writer(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    calls: list[str] = []

    def respond(body: dict) -> Reply:
        calls.append("writer")
        if len(calls) == 1:
            return Reply(text=writer_reply(body, {11: "- one open note"}))
        return Reply(text=writer_reply(body, {11: "\n".join(
            line for line in shown_section(body, 11).splitlines() if not line.startswith("→"))}))

    openai_server.responder = respond
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    folder = agent_project.root / ".mimo" / "sessions" / sid
    entries = "".join(f"## [turn {i} · 2026-12-05T05:00:00+00:00]\nnote {i}: {'words of the note ' * 12}\n\n"
                      for i in range(2, 40))
    agent_project.services.project.store.write(
        f"sessions/{sid}/notes.md", f"# Notes of session {sid}\n\n{entries}"
        "## [turn 40 · 2026-12-05T05:00:00+00:00]\nrun `pytest -k 'slow and not net'` on port 5433\n")
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: go")
    await run_writer(agent_project, agent)
    assert "→ spilled to checkpoint-open-notes.md" in (folder / "checkpoint.md").read_text()
    assert "## [turn" not in (folder / "notes.md").read_text()  # folded: the spill file is the only copy
    agent_project.services.sessions.add_message(sid, 2, "user", "TURN-2: more")
    await run_writer(agent_project, agent)
    section = reachable(folder, 11)
    assert "run `pytest -k 'slow and not net'` on port 5433" in section and "note 2: words" in section
    assert_spills_consistent(folder)


async def test_a_task_tree_that_spilled_and_shrank_leaves_no_stale_spill_file(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    openai_server.responder = lambda body: Reply(text=writer_reply(body, {}))
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    folder = agent_project.root / ".mimo" / "sessions" / sid
    tasks = agent_project.services.tasks
    title = "to the new schema with its indexes, triggers, foreign keys, views and the grants of each role"
    created = [tasks.create(sid, f"migrate table_{i} {title}") for i in range(50)]
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: go")
    await run_writer(agent_project, agent)
    section = reachable(folder, 4)
    assert "migrate table_49 " in section and "→ spilled to checkpoint-task-tree.md" in section
    for task in created[1:]:
        tasks.rename(sid, task.id, "x")
    await run_writer(agent_project, agent)
    assert_spills_consistent(folder)
    section = reachable(folder, 4)
    assert "migrate table_0 " in section


async def test_a_pointer_to_a_spill_file_deleted_by_hand_is_not_copied_into_the_next_checkpoint(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    calls: list[str] = []

    def respond(body: dict) -> Reply:
        calls.append("writer")
        if len(calls) == 1:
            return Reply(text=writer_reply(body, {10: decisions(400)}))
        return Reply(text=writer_reply(body, {10: shown_section(body, 10) + "\n- decision 10000: the new one"}))

    openai_server.responder = respond
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    folder = agent_project.root / ".mimo" / "sessions" / sid
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: go")
    await run_writer(agent_project, agent)
    agent_project.services.project.store.delete(f"sessions/{sid}/checkpoint-design-decisions.md")
    await run_writer(agent_project, agent)
    assert "- decision 10000: the new one" in reachable(folder, 10)
    assert_spills_consistent(folder)
    assert not validate_repo(agent_project.root / ".mimo")


async def test_sections_missing_from_a_cut_off_answer_keep_their_previous_bodies(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # The writer's answer is capped at 4,000 output tokens while the eleven budgets add up to 15,100: an answer cut
    # off after §8 must not wipe §9-§11 (nor their spill files) from the checkpoint.
    use_server(agent_project, openai_server)
    calls: list[str] = []
    live = "- dev server: `npm run dev -- --port 5173` (pid 4242)"

    def respond(body: dict) -> Reply:
        calls.append("writer")
        full = writer_reply(body, {9: live, 10: f"{decisions(400)}\n{LITERAL}", 11: "- ask about the 4.2 release"})
        if len(calls) == 1:
            return Reply(text=full)
        return Reply(text=full.split("## §9 ")[0].replace("Nothing of note.", "SECOND RUN"))

    openai_server.responder = respond
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    folder = agent_project.root / ".mimo" / "sessions" / sid
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: go")
    await run_writer(agent_project, agent)
    await run_writer(agent_project, agent)
    assert "SECOND RUN" in reachable(folder, 8)
    assert live in reachable(folder, 9) and LITERAL in reachable(folder, 10)
    assert "- ask about the 4.2 release" in reachable(folder, 11)
    assert_spills_consistent(folder)


def test_merging_an_answer_with_a_spilled_section_keeps_what_the_writer_did_not_see() -> None:
    from mimo_tui.agent.checkpoint_spills import PreviousSpill, merged_body, spilled_body

    spill = PreviousSpill(10, "checkpoint-design-decisions.md", "- a\n- b\n- c", "- a", "- b\n- c")
    marker = spill.for_writer.splitlines()[-1]
    assert "2 more lines" in marker and "not shown" in marker
    # The shown part rewritten (the marker copied along): the unseen part follows it.
    assert merged_body(f"- a, condensed\n{marker}", spill) == "- a, condensed\n- b\n- c"
    # A copied pointer line among new lines stands for the whole spilled body there.
    pointer = "→ spilled to checkpoint-design-decisions.md: 3 lines"
    assert merged_body(f"- new first\n{pointer}", spill) == "- new first\n- a\n- b\n- c"
    assert merged_body("(unchanged)", spill) == merged_body("", spill) == "- a\n- b\n- c"
    assert merged_body("- x", None) == "- x"
    text = "# §10 Design decisions (session s)\n\n_Spilled from checkpoint.md at now._\n\n# kept heading\n- a\n"
    assert spilled_body(text) == "# kept heading\n- a"


async def test_a_section_cut_at_the_output_limit_keeps_its_previous_body_before_the_new_part(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # finish_reason "length": the answer stops mid-way through §9; what §9 held before must not be lost with it.
    use_server(agent_project, openai_server)
    calls: list[str] = []
    live = "- dev server: `npm run dev -- --port 5173` (pid 4242)"

    def respond(body: dict) -> Reply:
        calls.append("writer")
        full = writer_reply(body, {9: f"{live}\n- staging url: https://stage.example.test/v2", 11: "- ask about 4.2"})
        if len(calls) == 1:
            return Reply(text=full)
        cut = full.split("## §10 ")[0].replace(live, "- dev server moved to port 5174 (pid 4343)")
        return Reply(text=cut.rsplit("- staging url", 1)[0] + "- staging u", finish_reason="length")

    openai_server.responder = respond
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    folder = agent_project.root / ".mimo" / "sessions" / sid
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: go")
    await run_writer(agent_project, agent)
    await run_writer(agent_project, agent)
    section = reachable(folder, 9)
    assert live in section and "https://stage.example.test/v2" in section  # the previous body, whole
    assert "port 5174 (pid 4343)" in section and "cut off at its output limit" in section  # then the new part
    assert "- ask about 4.2" in reachable(folder, 11)
    assert_spills_consistent(folder)
