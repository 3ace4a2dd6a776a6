"""Regenerate the SVG screenshots of every screen: `python screenshots/make_screenshots.py`.

Runs the workbench headless at 120x40 on a throwaway project with an isolated HOME and fixed commit
dates, walks each pane, and writes one SVG per screen beside this script.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def make_project(base: Path) -> Path:
    for name, value in {
        "HOME": base / "home",
        "XDG_CONFIG_HOME": base / "home" / ".config",
        "XDG_DATA_HOME": base / "home" / ".local" / "share",
        "GIT_AUTHOR_DATE": "2026-01-02T03:04:05+00:00",
        "GIT_COMMITTER_DATE": "2026-01-02T03:04:05+00:00",
        "TZ": "UTC",
    }.items():
        os.environ[name] = str(value)
    time.tzset()  # the status line's "checkpoint HH:MM" is local time
    project = base / "demo-project"
    project.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / "app.py").write_text('print("hello")\n')
    return project


async def wait_for(pilot, predicate: Callable[[], object], timeout: float = 10) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("screen did not get ready")
        await pilot.pause(0.05)


async def shoot(project: Path, name: str, prepare: Callable[[object, object], Awaitable[None]],
                size: tuple[int, int] = (120, 40)) -> None:
    from mimo_tui.ui.app import MimoApp

    app = MimoApp(start_dir=project, watch=False)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.project is not None)
        await prepare(app, pilot)
        await pilot.pause(0.2)
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
    print(f"wrote screenshots/{name}.svg")


async def workbench(app, pilot) -> None:
    """The default screen: the chat and, when there is room, the side column with the session's tasks."""
    await wait_for(pilot, lambda: app.services.session_id is not None)
    if app.size.width >= 100:
        await wait_for(pilot, lambda: app.query("#side-tasks") and app.query_one("#side-tasks").session_id is not None)
    app.query_one("#prompt").cursor_blink = False
    await pilot.pause(0.3)


async def chat_tour(app, pilot) -> None:
    """The offline agent's tour, stopped at its permission prompt."""
    await wait_for(pilot, lambda: app.services.session_id is not None)
    prompt = app.query_one("#prompt")
    prompt.cursor_blink = False
    prompt.focus()
    prompt.value = "hello"
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.query("PermissionPrompt"), timeout=30)


async def memory(app, pilot) -> None:
    store = app.project.store
    text = store.read("MEMORY.md").text.replace(
        "## Rules\n", "## Rules\n\n- Run the tests with `python -m pytest` before every commit.\n"
    )
    store.write("MEMORY.md", text, message="memory: user added a rule")
    await pilot.press("f2")
    pane = app.query_one("#memory-pane")
    await wait_for(pilot, lambda: "python -m pytest" in pane.editor.text and pane.diff_text)
    pane.editor.cursor_blink = False


async def dream_review(app, pilot) -> None:
    """/dream over a memory with a near-duplicate and a stale path: its review and diff, `r` to revert."""
    store = app.project.store
    text = store.read("MEMORY.md").text.replace("## Rules\n_Standing instructions from the user that hold in every session._\n", (
        "## Rules\n_Standing instructions from the user that hold in every session._\n"
        "- Run the tests with `python -m pytest` before every commit.\n"
        "- Run the tests with python -m pytest before every commit\n"
        "- Settings are parsed in `src/settings_v2.py`.\n"
        "- The entry point is `app.py`.\n"))
    store.write("MEMORY.md", text, message="memory: user added rules")
    await wait_for(pilot, lambda: app.services.session_id is not None)
    prompt = app.query_one("#prompt")
    prompt.cursor_blink = False
    prompt.focus()
    prompt.value = "/dream"
    await pilot.press("enter")
    await wait_for(pilot, lambda: getattr(app.screen, "review", None) is not None)


def plant_sessions(project: Path) -> None:
    """Three sessions that bumped the version the same way, for /distill to find."""
    import json

    from mimo_tui.sessions import SessionStore

    sessions = SessionStore(project / ".mimo" / "state.db")
    calls = [("read_file", {"path": "pyproject.toml"}), ("edit_file", {"path": "pyproject.toml"}),
             ("edit_file", {"path": "CHANGELOG.md"}), ("bash", {"command": "git commit -am bump"})]
    for version in ("1.4.0", "1.5.0", "2.0.1"):
        session = sessions.create("offline/agent")
        sessions.add_message(session.id, 1, "user", f"Bump the version to {version} and update the changelog")
        for n, (name, args) in enumerate(calls):
            call = {"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            sessions.add_message(session.id, 1, "assistant", "", tool_calls=[call])
            sessions.add_message(session.id, 1, "tool", "ok", tool_call_id=f"c{n}", tool_name=name)
    sessions.close()


async def distill_review(app, pilot) -> None:
    await wait_for(pilot, lambda: app.services.session_id is not None)
    prompt = app.query_one("#prompt")
    prompt.cursor_blink = False
    prompt.focus()
    prompt.value = "/distill"
    await pilot.press("enter")
    await wait_for(pilot, lambda: getattr(app.screen, "plan", None) is not None)
    await pilot.press("space")


def plant_dataset_draft(project: Path) -> None:
    """A release-notes skill and two sessions that did its work, drafted into a dataset pending review."""
    from mimo_tui.maintenance.distill.dataset_draft import draft_dataset
    from mimo_tui.project import Project
    from mimo_tui.sessions import SessionStore

    opened = Project.open(project)
    opened.store.write("skills/release-notes/SKILL.md", '---\nname: release-notes\ndescription: "Write release notes '
                       'from the git log"\n---\n# release-notes\n\nWhen to use:\n- Write the release notes for version 1.2\n')
    sessions = SessionStore(opened.workspace.state_db)
    for version, answer in (("1.3", "## 1.3\n- Faster parser\n- Fixed the cache key"), ("1.4", "## 1.4\n- New CLI flag")):
        session = sessions.create("offline/agent")
        sessions.add_message(session.id, 1, "user", f"Write the release notes for version {version}")
        sessions.add_message(session.id, 1, "assistant", answer)
    draft_dataset(opened.store, sessions, "release-notes")
    sessions.close()


async def dataset_review(app, pilot) -> None:
    await wait_for(pilot, lambda: app.services.session_id is not None)
    prompt = app.query_one("#prompt")
    prompt.cursor_blink = False
    prompt.focus()
    prompt.value = "/dataset release-notes"
    await pilot.press("enter")
    await wait_for(pilot, lambda: getattr(app.screen, "pending", None) is not None)


def train_demo(project: Path) -> None:
    """Run the offline demo trainer once, so the trainer pane has a finished run to show."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    subprocess.run([sys.executable, "-m", "mimo_tui", "skill", "train", "date-normalizer", "--epochs", "1"],
                   cwd=project, env=env, check=True, capture_output=True)


def freeze_run_times(project: Path) -> None:
    """Fix the clock and step durations in the run's events, so the screenshot does not change between runs."""
    import json

    for events in (project / ".mimo" / "runs").glob("*/events.jsonl"):
        lines = []
        for line in events.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            event["t"] = 1767323045.0
            if event["type"] == "step_finished":
                event["seconds"] = 1.5
            lines.append(json.dumps(event))
        events.write_text("\n".join(lines) + "\n", encoding="utf-8")
        events.parent.rename(events.parent.with_name("20260102-030405-date-normalizer"))


async def trainer(app, pilot) -> None:
    from textual.widgets import DataTable

    await pilot.press("f4")
    pane = app.query_one("#trainer-pane")
    await wait_for(pilot, lambda: pane.view is not None and pane.view.summary is not None and bool(pane.entries))
    await wait_for(pilot, lambda: pane.query_one(DataTable).row_count > 0)


INJECTED = """<memory block="project" source=".mimo/MEMORY.md">
# Project memory
## Rules
- Run the tests with `python -m pytest` before every commit.
</memory>

<memory block="checkpoint" source=".mimo/sessions/20260102-030405-a1b2/checkpoint.md">
# Checkpoint
## 1. User intent
> Review the parser module and fix what you find.
## 2. Current work
T2 is in progress: parse_header() rejects an empty tag list; the fix is in, its test is next.
## 5. Decisions
- Keep the old error text: the CLI golden tests match it byte for byte.
</memory>

<memory block="focus_task">
T2 [in_progress] Fix empty tag lists in parse_header()
</memory>

<memory block="recent_user_messages">
> TURN-7: the CLI must keep printing "no tags" exactly as before
</memory>"""


async def context_rebuilt(app, pilot) -> None:
    """The divider a context rebuild leaves in the chat, opened on the memory block the model was given.

    Staged on the offline session (the offline demo model keeps no context to rebuild): the blocks and the
    status line are the chat's own widgets, fed what a rebuild on a 32K window reports.
    """
    from mimo_tui.ui.chat.agent_status import AgentStatus, checkpoint_label
    from mimo_tui.ui.chat.context_divider import ContextDivider
    from mimo_tui.ui.chat.user_message import UserMessage

    await workbench(app, pilot)
    conversation = app.query_one("Conversation")
    await conversation.remove_children()
    await conversation.mount(UserMessage("TURN-8: continue the review where you stopped"))
    divider = ContextDivider(True, 17_240, 9_810, INJECTED)
    await conversation.mount(divider)
    divider.collapsed = False
    for status in app.query(AgentStatus):
        status.show("openai/gpt-4o-mini", "build", 9_810, 32_000, 0.0123,
                    checkpoint=checkpoint_label(False, 1767323045.0))
    await pilot.pause(0.3)


async def subagents(app, pilot) -> None:
    """Subagents in the chat: a background child's line counting its tool calls, one that ended, /agents' list
    and the status line's count. Staged on the offline session with the renderer's own lines (wev.describe)."""
    from textual.widgets import Static

    from mimo_tui.agent import work_events as wev
    from mimo_tui.ui.chat.agent_status import AgentStatus
    from mimo_tui.ui.chat.assistant_message import AssistantMessage
    from mimo_tui.ui.chat.user_message import UserMessage

    await workbench(app, pilot)
    conversation = app.query_one("Conversation")
    await conversation.remove_children()
    events = [wev.SubagentChanged("a1", "T1", "finished", "s1", True, "The parser's tests pass; 2 fixtures renamed."),
              wev.SubagentProgress("a2", "T2", True, 7, "grep def parse_")]
    await conversation.mount(UserMessage("audit the parser and the CLI in parallel, in the background"))
    for event in events:
        await conversation.mount(Static(wev.describe(event), markup=False, classes="work-line"))
    await conversation.mount(UserMessage("/agents"))
    await conversation.mount(AssistantMessage(
        "**Subagents of this session**\n\n- `a1 on T1 [finished, background] writes: tests/*`\n"
        "- `a2 on T2 [running, background] writes: read-only`\n\n`/agents cancel ID` stops one; "
        "abandoning its task (F3, x) stops it too."))
    for status in app.query(AgentStatus):
        status.show("openai/gpt-4o-mini", "build", 12_400, 128_000, 0.0311, subagents=1)
    await pilot.pause(0.3)


STATUS_STATES = (
    ("under the first threshold", 4_200, (False, 0.0, False)),
    ("first threshold crossed: the writer runs", 6_100, (True, 0.0, False)),
    ("a checkpoint was written", 8_300, (False, 1767323045.0, False)),
    ("top threshold: the next request rebuilds", 17_000, (False, 1767323045.0, False)),
    ("three failures in a row: the writer stopped", 9_500, (False, 1767323045.0, True)),
)


async def status_states() -> None:
    """The status line's checkpoint states, one per row, rendered by the status line's own widget."""
    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from mimo_tui.agent.context_limits import limits_for
    from mimo_tui.agent.events import ContextStatus
    from mimo_tui.ui.chat.agent_status import AgentStatus, checkpoint_label

    class Gallery(App):
        CSS = "Static.caption { color: $text-muted; margin-top: 1; } AgentStatus { height: 1; }"

        def compose(self) -> ComposeResult:
            for caption, used, (running, last_at, stopped) in STATUS_STATES:
                yield Static(caption, classes="caption")
                limits = limits_for("openai/gpt-4o-mini", 32_000)
                note = ContextStatus(used, limits.window, limits.usable, limits.first, limits.top, running, last_at,
                                     stopped).warning
                status = AgentStatus()
                status.project_name = "demo-project"
                status.show("openai/gpt-4o-mini", "build", used, 32_000, 0.0123, busy=running, context_note=note,
                            checkpoint=checkpoint_label(running, last_at, stopped))
                yield status

    app = Gallery()
    async with app.run_test(size=(132, 3 * len(STATUS_STATES) + 1)) as pilot:
        await pilot.pause(0.2)
        app.save_screenshot(filename="status-line-checkpoint.svg", path=str(HERE))
    print("wrote screenshots/status-line-checkpoint.svg")


async def pane(key: str):
    async def show(app, pilot) -> None:
        await pilot.press(key)
        await pilot.pause(0.3)

    return show


async def main(only: set[str]) -> None:
    """Every screenshot, or only those named on the command line (e.g. `status-line-checkpoint`)."""
    def wanted(name: str) -> bool:
        return not only or name in only

    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        for name, prepare, size in (
            ("workbench", workbench, (120, 40)),
            ("workbench-80x24", workbench, (80, 24)),
            ("chat-permission", chat_tour, (120, 40)),
            ("chat-context-rebuilt", context_rebuilt, (120, 40)),
            ("chat-subagents", subagents, (120, 40)),
            ("memory-pane", memory, (120, 40)),
            ("tasks-pane", await pane("f3"), (120, 40)),
            ("dream-review", dream_review, (120, 40)),
        ):
            if wanted(name):
                await shoot(project, name, prepare, size=size)
        if wanted("status-line-checkpoint"):
            await status_states()
        if wanted("distill-review"):
            plant_sessions(project)
            await shoot(project, "distill-review", distill_review)
        if wanted("dataset-review"):
            plant_dataset_draft(project)
            await shoot(project, "dataset-review", dataset_review)
        if wanted("trainer-pane"):
            train_demo(project)
            freeze_run_times(project)
            await shoot(project, "trainer-pane", trainer)


if __name__ == "__main__":
    asyncio.run(main(set(sys.argv[1:])))
