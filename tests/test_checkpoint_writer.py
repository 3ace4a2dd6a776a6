"""The background checkpoint writer against the local server: runs beside the main agent, sandboxed, stops after 3 failures."""

from __future__ import annotations

import asyncio
import json
import subprocess

from mimo_tui.agent import events as ev
from mimo_tui.memory.templates import CHECKPOINT_SECTIONS
from mimo_tui.memory.validators import validate_repo
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import ErrorReply, LocalOpenAIServer, Reply, ToolCall
from tests.fixtures.scripted_long_session import checkpoint_reply, kind_of

# 32K window: thresholds at 5,580, 11,161 and 16,742 tokens.
CONFIG = '[model]\ncontext_window = 32000\n\n[llm]\nmax_retries = 1\n'


def use_server(project: AgentProject, server: LocalOpenAIServer, extra: str = "") -> None:
    project.write_config(f'{CONFIG}{extra}\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n')


def authors(project: AgentProject, relpath: str) -> list[str]:
    out = subprocess.run(["git", "--git-dir", str(project.root / ".mimo" / ".git"), "log", "--format=%an", "--", relpath],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


async def test_the_writer_runs_while_the_main_agent_keeps_streaming(agent_project: AgentProject,
                                                                    openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    main = [
        Reply(text="Looking.", tool_calls=[ToolCall("read_file", json.dumps({"path": "README.md"}))], prompt_tokens=6000),
        Reply(text="The port is 8443. " + "more words " * 60, chunk_size=6, chunk_delay=0.02),
    ]
    openai_server.responder = (lambda body: Reply(text=checkpoint_reply(body), delay=0.4) if kind_of(body) == "writer"
                               else main.pop(0))
    events = RecordedEvents()
    agent = agent_project.open(events)
    agent_project.services.tasks.create(agent.session_id, "review the parser")
    assert await agent.run_turn("TURN-1: review the parser, the config lives in conf/app.toml") == ev.TURN_DONE
    assert await agent.keeper.finish(20)
    kinds = [type(e).__name__ for e in events.events]
    started, finished = kinds.index("CheckpointStarted"), kinds.index("CheckpointFinished")
    turn_end = kinds.index("TurnEnded")
    # The writer began when the first reply crossed 5,580 tokens and finished while the answer still streamed.
    assert started < finished < turn_end
    assert "TextDeltaEvent" in kinds[started:finished] and "TextDeltaEvent" in kinds[finished:turn_end]
    assert openai_server.max_in_flight == 2
    done = events.of(ev.CheckpointFinished)[0]
    assert done.status == "done" and "checkpoint written" in done.message
    sid = agent.session_id
    text = (agent_project.root / ".mimo" / "sessions" / sid / "checkpoint.md").read_text()
    for number, spec in enumerate(CHECKPOINT_SECTIONS, 1):
        assert f"## §{number} {spec.title}" in text
    # §4 comes from the task store, not from the writer's answer ("Nothing of note.").
    section4 = text.split("## §4 Task tree")[1].split("## §5")[0]
    assert "T1 review the parser [open]" in section4 and "Nothing of note" not in section4
    assert "> TURN-1: review the parser, the config lives in conf/app.toml" in text  # literal, byte for byte
    assert authors(agent_project, f"sessions/{sid}/checkpoint.md") == ["checkpoint-writer"]
    # The writer's request is its own: its system prompt, no main-agent tools.
    writer_body = next(b for b in openai_server.requests if kind_of(b) == "writer")
    assert [t["function"]["name"] for t in writer_body["tools"]] == ["write_memory_file"]
    assert all(m["role"] in ("system", "user") for m in writer_body["messages"])


async def test_a_writer_reply_that_edits_project_source_is_refused(agent_project: AgentProject,
                                                                   openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    source = agent_project.root / "src" / "app.py"
    before = source.read_text()

    def respond(body: dict) -> Reply:
        if kind_of(body) != "writer":
            return Reply(text="ok", prompt_tokens=6000)
        return Reply(text=checkpoint_reply(body), tool_calls=[
            ToolCall("edit_file", json.dumps({"path": "src/app.py", "old": "hello", "new": "pwned"})),
            ToolCall("write_memory_file", json.dumps({"path": "../src/app.py", "content": "pwned"})),
            ToolCall("write_memory_file", json.dumps({"path": "src/app.py", "content": "pwned"})),
            ToolCall("write_memory_file", json.dumps({"path": "MEMORY.md", "content": "pwned"})),
            ToolCall("write_memory_file", json.dumps({"path": "checkpoint-extra.md", "content": "# extra\n"})),
        ])

    openai_server.responder = respond
    events = RecordedEvents()
    agent = agent_project.open(events)
    assert await agent.run_turn("TURN-1: hello") == ev.TURN_DONE
    assert await agent.keeper.finish(20)
    assert source.read_text() == before
    assert not (agent_project.root / ".mimo" / "src").exists()
    assert "pwned" not in (agent_project.root / ".mimo" / "MEMORY.md").read_text()
    done = events.of(ev.CheckpointFinished)[-1]
    assert done.status == "done" and len(done.refused) == 4
    assert any("edit_file" in r and "not a checkpoint-writer tool" in r for r in done.refused)
    assert any("may not write" in r for r in done.refused)
    # Inside its sandbox the same tool works.
    extra = agent_project.root / ".mimo" / "sessions" / agent.session_id / "checkpoint-extra.md"
    assert extra.read_text() == "# extra\n"
    assert any("checkpoint-writer may not write" in note for note in agent_project.services.project.store.refusals)


async def test_three_failures_in_a_row_stop_the_writer_and_the_watermark_stays(agent_project: AgentProject,
                                                                              openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    answers = {"writer": [Reply(text=""), ErrorReply(400, "bad request"), Reply(text="I will continue the main task now")]}

    def respond(body: dict) -> Reply | ErrorReply:
        if kind_of(body) == "writer":
            return answers["writer"].pop(0) if answers["writer"] else Reply(text=checkpoint_reply(body))
        return Reply(text="ok", prompt_tokens=6000)

    openai_server.responder = respond
    events = RecordedEvents()
    agent = agent_project.open(events)
    writer = agent.keeper.writer
    assert await agent.run_turn("TURN-1: first") == ev.TURN_DONE
    await agent.keeper.finish(20)
    for _ in range(2):
        assert writer.request("test") == "started"
        await agent.keeper.finish(20)
    statuses = [e.status for e in events.of(ev.CheckpointFinished)]
    assert statuses == ["failed", "failed", "stopped"]
    assert "stopped after 3 failures in a row" in events.of(ev.CheckpointFinished)[-1].message
    assert writer.request("again") == "stopped"
    state = agent_project.services.context_state.get(agent.session_id)
    assert state.watermark == 0 and state.failures == 3
    assert not (agent_project.root / ".mimo" / "sessions" / agent.session_id / "checkpoint.md").exists()
    assert agent.keeper.status().warning == "checkpoint writer stopped"
    # /checkpoint gives it another try.
    assert agent.keeper.request_checkpoint() == "started"
    await agent.keeper.finish(20)
    assert events.of(ev.CheckpointFinished)[-1].status == "done"
    assert agent_project.services.context_state.get(agent.session_id).watermark > 0


async def test_one_writer_per_session_with_one_queued_request(agent_project: AgentProject,
                                                             openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    openai_server.responder = lambda body: Reply(text=checkpoint_reply(body), delay=0.3)
    events = RecordedEvents()
    agent = agent_project.open(events)
    agent_project.services.sessions.add_message(agent.session_id, 1, "user", "TURN-1: note this")
    writer = agent.keeper.writer
    assert writer.request("first") == "started"
    assert writer.request("second") == "queued"
    assert writer.request("third") == "queued"  # the newest wins; still one queued
    await agent.keeper.finish(20)
    assert [e.reason for e in events.of(ev.CheckpointStarted)] == ["first", "third"]
    assert openai_server.max_in_flight == 1


async def test_the_last_finish_is_told_when_the_writer_is_idle(agent_project: AgentProject,
                                                                openai_server: LocalOpenAIServer) -> None:
    # Tried by hand in the TUI: the status line said "checkpointing" long after the checkpoint was committed. The
    # finish was told from inside the writer's task, so a status drawn on it still read the writer as running.
    use_server(agent_project, openai_server)
    openai_server.responder = lambda body: Reply(text=checkpoint_reply(body), delay=0.2)
    seen: list[tuple[str, bool, bool]] = []
    agent = None

    def emit(event: object) -> None:
        if isinstance(event, ev.CheckpointFinished):
            assert agent is not None
            seen.append((event.status, agent.keeper.writer.running, agent.keeper.status().writer_running))

    agent = agent_project.open(emit)
    agent_project.services.sessions.add_message(agent.session_id, 1, "user", "TURN-1: note this")
    writer = agent.keeper.writer
    assert writer.request("first") == "started" and writer.request("second") == "queued"
    await agent.keeper.finish(20)
    assert seen == [("done", True, True), ("done", False, False)]  # the queued run still to come, then idle


async def test_notes_are_folded_in_and_durable_facts_reach_memory(agent_project: AgentProject,
                                                                  openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    openai_server.responder = lambda body: Reply(text=checkpoint_reply(body))
    events = RecordedEvents()
    agent = agent_project.open(events)
    sid = agent.session_id
    store = agent_project.services.project.store
    store.write(f"sessions/{sid}/notes.md", f"# Notes of session {sid}\n\n## [turn 2 · 2026-12-05T05:00:00+00:00]\n"
                "run `pytest -k 'slow and not net'` on port 5433\n")
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: FACT-1: the cache dir is /var/tmp/mimo-c4")
    assert agent.keeper.writer.request("test") == "started"
    await agent.keeper.finish(20)
    checkpoint = (agent_project.root / ".mimo" / "sessions" / sid / "checkpoint.md").read_text()
    assert "run `pytest -k 'slow and not net'` on port 5433" in checkpoint.split("## §11 Open notes")[1]
    notes = (agent_project.root / ".mimo" / "sessions" / sid / "notes.md").read_text()
    assert "## [turn" not in notes
    memory = (agent_project.root / ".mimo" / "MEMORY.md").read_text()
    assert "- FACT-1: the cache dir is /var/tmp/mimo-c4 (session" in memory
    assert memory.index("FACT-1") > memory.index("## Discovered durable knowledge")
    assert authors(agent_project, "MEMORY.md")[0] == "checkpoint-writer"


async def test_a_section_over_budget_spills_to_its_own_file(agent_project: AgentProject,
                                                            openai_server: LocalOpenAIServer) -> None:
    use_server(agent_project, openai_server)
    long_body = "\n".join(f"- decision {i}: keep module_{i}.py as it is" for i in range(400))

    def respond(body: dict) -> Reply:
        return Reply(text=checkpoint_reply(body).replace("## §10 Design decisions\n_", f"## §10 Design decisions\n{long_body}\n\n_"))

    openai_server.responder = respond
    agent = agent_project.open(RecordedEvents())
    agent_project.services.sessions.add_message(agent.session_id, 1, "user", "TURN-1: go")
    agent.keeper.writer.request("test")
    await agent.keeper.finish(20)
    folder = agent_project.root / ".mimo" / "sessions" / agent.session_id
    spill = (folder / "checkpoint-design-decisions.md").read_text()
    assert "- decision 399: keep module_399.py as it is" in spill
    section = (folder / "checkpoint.md").read_text().split("## §10 Design decisions")[1].split("## §11")[0]
    assert "→ spilled to checkpoint-design-decisions.md" in section and "decision 399" not in section
    # What the writer committed passes `mimo memory check`.
    problems = validate_repo(agent_project.root / ".mimo")
    assert not problems, problems


async def test_a_writer_killed_between_two_commits_leaves_a_consistent_repo_and_its_lease_to_the_next(
        agent_project: AgentProject, openai_server: LocalOpenAIServer, run_mimo) -> None:
    import os
    import signal

    from mimo_tui.sessions.context_state import ContextStateStore
    from tests.fixtures.mimo_process import start_mimo

    use_server(agent_project, openai_server, '\n[context]\nthresholds = ["10", "100"]\n')
    calls = {"writer": 0, "turn": 0}

    def respond(body: dict) -> Reply:
        if kind_of(body) != "writer":
            calls["turn"] += 1
            return Reply(text="answer", prompt_tokens=50 * calls["turn"])
        calls["writer"] += 1
        if calls["writer"] == 2:  # two commits: the spill file it asks for, then checkpoint.md
            return Reply(text=checkpoint_reply(body).replace("Nothing of note.", "SECOND RUN"),
                         tool_calls=[ToolCall("write_memory_file", json.dumps({"path": "checkpoint-x.md", "content": "x"}))])
        return Reply(text=checkpoint_reply(body).replace("Nothing of note.", f"RUN {calls['writer']}"))

    openai_server.responder = respond
    subprocess.run(["git", "init", "-q"], cwd=agent_project.root, check=True)
    first = run_mimo(agent_project.root, "run", "--json", "--model", "test", "TURN-1: start")
    assert first.returncode == 0, first.stderr
    sid = json.loads(first.stdout.splitlines()[-1])["session_id"]
    mimo_dir = agent_project.root / ".mimo"
    checkpoint = mimo_dir / "sessions" / sid / "checkpoint.md"
    committed = checkpoint.read_text()
    state = ContextStateStore(mimo_dir / "state.db")
    watermark = state.get(sid).watermark
    assert watermark > 0
    git = ["git", "--git-dir", str(mimo_dir / ".git"), "--work-tree", str(mimo_dir)]
    # A post-commit hook (git runs it even with --no-verify) parks the writer's first commit of the next run:
    # the commit is in history, the next one not begun, when the process is killed.
    paused = agent_project.root.parent / "paused"
    hook = mimo_dir / ".git" / "hooks" / "post-commit"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\ngit --git-dir '{mimo_dir / '.git'}' log -1 --format=%an | grep -qx checkpoint-writer || exit 0\n"
                    f"echo $$ > '{paused}.tmp' && mv '{paused}.tmp' '{paused}'\nexec sleep 120\n")
    hook.chmod(0o755)
    proc = start_mimo(agent_project.root, "run", "--model", "test", "--session", sid, "TURN-2: more")
    hook_pid = 0
    try:
        for _ in range(1200):  # a cold child imports litellm first: seconds on a busy machine
            if paused.exists() or proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert paused.exists(), proc.communicate(timeout=30)
        hook_pid = int(paused.read_text())
        # While that process holds the session's writer lease, this one does not write its checkpoint.
        events = RecordedEvents()
        agent = agent_project.open(events, resume=sid)
        assert agent.keeper.writer.request("beside the other process") == "busy"
        [busy] = events.of(ev.CheckpointFinished)
        assert busy.status == "busy" and f"process {proc.pid}" in busy.message
        proc.kill()
        proc.communicate(timeout=10)
    finally:
        hook.unlink()
        if hook_pid:
            os.kill(hook_pid, signal.SIGKILL)
    await asyncio.sleep(0.3)  # the orphaned git commit ends with its hook
    head = subprocess.run([*git, "show", "--format=%an", "--name-only", "HEAD"], capture_output=True, text=True).stdout.split()
    assert head == ["checkpoint-writer", f"sessions/{sid}/checkpoint-x.md"]  # the first commit landed, the second not
    assert checkpoint.read_text() == committed and "SECOND RUN" not in committed
    assert subprocess.run([*git, "show", f"HEAD:sessions/{sid}/checkpoint.md"], capture_output=True, text=True).stdout == committed
    assert subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    assert subprocess.run([*git, "fsck", "--no-progress"], capture_output=True, text=True).returncode == 0
    assert state.get(sid).watermark == watermark  # what was checkpointed did not move
    # The dead process's lease is free: the next writer takes it and covers the messages again.
    assert agent.keeper.writer.request("after the kill") == "started"
    assert await agent.keeper.finish(30)
    assert "RUN 3" in checkpoint.read_text() and authors(agent_project, f"sessions/{sid}/checkpoint.md")[0] == "checkpoint-writer"
    assert state.get(sid).watermark > watermark
    state.close()


async def test_the_writer_gets_the_previous_checkpoint_without_what_it_has_elsewhere(
        agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    # Issue 16 (bench/long_session.py, 0.51 of the baseline with the writer counted): every writer call re-sent the
    # previous checkpoint's title, timestamp line, eleven instruction lines (its system prompt has them) and §4,
    # the task tree it is also sent from the task store.
    use_server(agent_project, openai_server)
    openai_server.responder = lambda body: Reply(text=checkpoint_reply(body).replace(
        "## §9 Live resources\n_Branch, uncommitted files, running processes, ports._\n\nNothing of note.",
        "## §9 Live resources\n_x_\n\n- dev server: `npm run dev -- --port 5173` (pid 4242)\n  still running"))
    agent = agent_project.open(RecordedEvents())
    sid = agent.session_id
    agent_project.services.tasks.create(sid, "review the parser")
    agent_project.services.sessions.add_message(sid, 1, "user", "TURN-1: FACT-1: the cache dir is /var/tmp/mimo-c4")
    for _ in range(2):
        assert agent.keeper.writer.request("test") == "started"
        await agent.keeper.finish(20)
    first = (agent_project.root / ".mimo" / "sessions" / sid / "checkpoint.md").read_text()
    second_prompt = [b for b in openai_server.requests if kind_of(b) == "writer"][1]["messages"][1]["content"]
    previous = second_prompt.split("Previous checkpoint:\n")[1].split("\n\nTask tree (from the task store):")[0]
    for number, spec in enumerate(CHECKPOINT_SECTIONS, 1):
        assert f"## §{number} {spec.title}" in previous
        assert f"_{spec.instruction}_" in first and spec.instruction not in previous
    assert "Generated by the checkpoint writer" in first and "Generated by" not in previous
    # The bodies reach the writer byte for byte; the task tree once, from the task store.
    assert "- FACT-1: the cache dir is /var/tmp/mimo-c4" in previous
    assert "- dev server: `npm run dev -- --port 5173` (pid 4242)\n  still running" in previous
    assert second_prompt.count("T1 review the parser [open]") == 1
    assert "T1 review the parser [open]" in first
