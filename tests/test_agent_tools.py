"""Agent tools on a real project folder: ranges, exact edits, listing, search, shell, .env asks, cancel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from mimo_tui.agent import events as ev
from mimo_tui.agent.paths import PathRefused, resolve_in_project
from mimo_tui.agent.tools.arguments import ToolInputError
from mimo_tui.agent.tools.base import ToolContext
from mimo_tui.agent.tools.files import EditFile, Glob, ListDir, ReadFile
from mimo_tui.agent.tools.search import Grep
from mimo_tui.agent.tools.shell import Bash, cap_output
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall


def context(root: Path) -> ToolContext:
    return ToolContext(project_root=root, session_id="s1")


async def test_read_file_line_range(agent_project: AgentProject) -> None:
    result = await ReadFile().run({"path": "src/app.py", "start_line": 2, "end_line": 3}, context(agent_project.root))
    assert result.content == "2      return 'hello'\n3  "
    assert "lines 2-3 of 6" in result.summary


async def test_edit_file_refuses_ambiguous_and_missing_matches(agent_project: AgentProject) -> None:
    ctx = context(agent_project.root)
    with pytest.raises(ToolInputError, match=r"occurs 2 times .* lines 2, 6"):
        await EditFile().run({"path": "src/app.py", "old_text": "return 'hello'", "new_text": "return 'hi'"}, ctx)
    with pytest.raises(ToolInputError, match="not found"):
        await EditFile().run({"path": "src/app.py", "old_text": "def missing():", "new_text": "x"}, ctx)
    result = await EditFile().run({"path": "src/app.py", "old_text": "def part():\n    return 'hello'", "new_text": "def part():\n    return 'bye'"}, ctx)
    assert result.content.startswith("edited src/app.py: 1 replacement(s)")
    assert (agent_project.root / "src/app.py").read_text().count("'hello'") == 1


async def test_list_dir_glob_and_grep(agent_project: AgentProject) -> None:
    ctx = context(agent_project.root)
    listing = await ListDir().run({"path": "."}, ctx)
    assert listing.content.splitlines() == ["src/", ".env", "README.md"]
    found = await Glob().run({"pattern": "**/*.py"}, ctx)
    assert found.content == "src/app.py"
    hits = await Grep().run({"pattern": "return '\\w+'", "include": "*.py"}, ctx)
    assert hits.content.splitlines()[0] == "src/app.py:2: return 'hello'" and hits.summary == "2 match(es)"


async def test_bash_runs_in_the_project_with_timeout_and_cap(agent_project: AgentProject) -> None:
    ctx = context(agent_project.root)
    result = await Bash().run({"command": "pwd && exit 3"}, ctx)
    assert result.is_error and result.content.startswith("exit code 3") and str(agent_project.root) in result.content
    slow = await Bash().run({"command": "sleep 5", "timeout_s": 1}, ctx)
    assert slow.is_error and "timed out after 1 s" in slow.content
    assert "characters cut" in cap_output("x" * 50_000)


def test_paths_follow_symlinks_and_allow_mimo(agent_project: AgentProject, tmp_path: Path) -> None:
    root = agent_project.root
    (root / "escape").symlink_to(tmp_path)
    with pytest.raises(PathRefused):
        resolve_in_project(root, "escape/x")
    with pytest.raises(PathRefused):
        resolve_in_project(root, "/etc/passwd")
    shared = tmp_path / "shared-mimo"
    shared.mkdir()
    (root / ".mimo").symlink_to(shared)
    assert resolve_in_project(root, ".mimo/MEMORY.md") == shared / "MEMORY.md"


async def test_env_read_asks_and_cancel_keeps_partial_turn(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    agent_project.use_server(openai_server.base_url)
    openai_server.queue(
        Reply(tool_calls=[ToolCall("read_file", json.dumps({"path": ".env"}))]), Reply(text="no secrets then"),
        Reply(text="a long answer " * 200, chunk_size=4, chunk_delay=0.01),
    )
    events = RecordedEvents(answers=["reject"])
    agent = agent_project.open(events)
    await agent.run_turn("read .env")
    assert events.of(ev.PermissionRequest)[0].subject == ".env"
    assert events.of(ev.ToolCallFinished)[0].status == "denied"
    turn = asyncio.ensure_future(agent.run_turn("say a lot"))
    while not any(isinstance(e, ev.TextDeltaEvent) and e.turn == 2 for e in events.events):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)
    assert agent.cancel()
    assert await turn == ev.TURN_CANCELLED
    stored = agent_project.services.sessions.messages(agent.session_id)
    assert stored[-1].status == "interrupted" and stored[-1].content.startswith("a long answer")


async def test_bash_output_flood_is_capped_without_holding_it_all() -> None:
    import asyncio

    from mimo_tui.agent.tools.shell import OUTPUT_CAP, read_capped

    process = await asyncio.create_subprocess_exec(
        "bash", "-c", "head -c 20000000 /dev/zero | tr '\\\\0' 'y'; echo END", stdout=asyncio.subprocess.PIPE
    )
    text = await read_capped(process.stdout)
    await process.wait()
    assert len(text) < OUTPUT_CAP * 9 and "bytes cut" in text and text.rstrip().endswith("END")


async def test_read_file_refuses_a_huge_file_with_advice(tmp_path) -> None:
    from mimo_tui.agent.tools.arguments import ToolInputError
    from mimo_tui.agent.tools.base import ToolContext
    from mimo_tui.agent.tools.files import MAX_READ_BYTES, ReadFile

    big = tmp_path / "huge.log"
    with big.open("wb") as handle:
        handle.truncate(MAX_READ_BYTES + 1)
    try:
        await ReadFile().run({"path": "huge.log"}, ToolContext(project_root=tmp_path, session_id="s"))
    except ToolInputError as exc:
        assert "too large" in str(exc) and "grep" in str(exc)
    else:
        raise AssertionError("a 20 MB file was read whole")
