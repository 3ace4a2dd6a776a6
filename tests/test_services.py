"""The app owns one services object that every pane is handed (issue 15, "What was seen" 6 and "Under the hood")."""

from __future__ import annotations

import re
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import Static

from mimo_tui.services import Services
from mimo_tui.ui.chat import slash_commands
from mimo_tui.ui.chat.slash_commands import COMMANDS, SlashCommand
from tests.fixtures.chat_app import send, wait_for_agent, wait_until

UI = Path(__file__).resolve().parent.parent / "mimo_tui" / "ui"


def ui_sources() -> dict[str, str]:
    return {str(path.relative_to(UI)): path.read_text(encoding="utf-8") for path in sorted(UI.rglob("*.py"))}


def test_no_pane_finds_app_state_with_getattr_or_another_panes_state() -> None:
    """Panes are handed the services object; none looks app state up by name or asks the chat pane for it."""
    lookups = re.compile(r"(getattr|hasattr)\(\s*self\.app\b|query(_one)?\(\s*[\"']#chat-pane|current_session\(")
    offenders = [name for name, text in ui_sources().items() if lookups.search(text)]
    assert offenders == []


def test_no_ui_module_builds_a_gateway_model_worker_or_store() -> None:
    """The gateway, the model worker and the stores are built once, by the services object, not by a pane."""
    builders = re.compile(r"\b(Gateway|WorkerGateway|ModelWorker|AgentServices|SessionStore|TaskStore)\(")
    offenders = [name for name, text in ui_sources().items() if builders.search(text)]
    assert offenders == []


async def test_the_chat_pane_holds_no_engine_state_of_its_own(agent_project, make_chat_app) -> None:
    """The agent and gateway the chat uses are the app's; the other panes read the same ones."""
    app = make_chat_app()
    async with app.run_test(size=(110, 36)) as pilot:
        pane = await wait_for_agent(pilot)
        assert pane.agent is app.services.agent and pane.gateway is app.services.gateway
        assert app.services.gateway.worker is app.model_worker
        assert app.services.session_id == pane.agent.session_id
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#tasks-pane")), what="the tasks pane")
        tasks = app.query_one("#tasks-pane")
        assert tasks.services is app.services
        await wait_until(pilot, lambda: tasks.session_id == app.services.session_id, what="the tasks pane's session")
        first = app.services.session_id
        await pilot.press("f1")
        await send(pilot, "/new")
        await wait_until(pilot, lambda: app.services.session_id != first, what="the new session")
        await wait_until(pilot, lambda: tasks.session_id == app.services.session_id, what="the tasks pane to follow")


async def test_the_tasks_pane_follows_the_services_session_without_a_chat_pane(agent_project) -> None:
    """A tasks pane alone, on a services object: it shows the current session's tasks and follows a switch."""
    from mimo_tui.project import Project
    from mimo_tui.ui.tasks_pane import TasksPane

    services = Services()
    services.open_stores(Project.open(agent_project.root))
    first = services.open_session(lambda event: None, model="offline/agent")
    services.tasks.create(first.session_id, "first session's task")
    services.make_current(first)

    class TasksHost(App):
        def compose(self) -> ComposeResult:
            yield TasksPane(services, id="tasks-pane")

    app = TasksHost()
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            pane = app.query_one(TasksPane)
            title = lambda: str(pane.query_one("#tasks-title", Static).render())  # noqa: E731
            await wait_until(pilot, lambda: "(1)" in title(), what="the first session's task")
            second = services.open_session(lambda event: None, model="offline/agent")
            services.make_current(second)
            await wait_until(pilot, lambda: pane.session_id == second.session_id and "(0)" in title(),
                             what="the pane to follow the new session")
    finally:
        await services.close()


async def test_a_slash_command_added_to_the_table_is_completed_listed_and_run(agent_project, make_chat_app, monkeypatch) -> None:
    """Commands live in one table: an entry there is all /help, completion and the prompt need."""
    ran: list[str] = []

    async def echo(pane, argument: str) -> None:
        ran.append(argument)

    monkeypatch.setattr(slash_commands, "COMMANDS", [*COMMANDS, SlashCommand("/echo", "say it back", echo)])
    app = make_chat_app()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for_agent(pilot)
        prompt = app.query_one("#prompt")
        suggestion = await prompt.suggester.get_suggestion("/ec")
        assert suggestion == "/echo"
        await send(pilot, "/echo hello there")
        await wait_until(pilot, lambda: ran == ["hello there"], what="the new command to run")
        await send(pilot, "/help")
        await wait_until(pilot, lambda: any("/echo" in block.source for block in app.query("AssistantMessage")),
                         what="/help to list the new command")


def test_background_work_in_the_ui_is_one_style() -> None:
    """`@work` (thread or async) everywhere: no private executors, no asyncio.to_thread, no run_worker(lambda)."""
    styles = re.compile(r"ThreadPoolExecutor|ProcessPoolExecutor|asyncio\.to_thread|run_worker\(|run_in_executor")
    offenders = [name for name, text in ui_sources().items() if styles.search(text)]
    assert offenders == []


async def test_a_background_failure_in_a_pane_reaches_the_user(agent_project, make_chat_app) -> None:
    """A worker that fails for a reason nobody planned for is shown, named, and the workbench goes on."""
    app = make_chat_app()
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for_agent(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#tasks-pane")), what="the tasks pane")
        tasks = app.query_one("#tasks-pane")
        await wait_until(pilot, lambda: tasks.session_id is not None, what="the tasks pane's session")
        app.services.tasks.close()  # the task database is gone from under the pane
        tasks.refresh_tasks()
        await wait_until(pilot, lambda: any("task list failed" in (n.title or "") for n in app._notifications),
                         what="the failure to be shown")
        assert app.is_running


def test_every_widget_that_runs_workers_shows_their_failures() -> None:
    """Textual tells only the widget that ran a worker about its failure: each such widget passes it on."""
    missing = [name for name, text in ui_sources().items()
               if re.search(r"^\s*@work", text, re.M) and name != "app.py" and "ShowsWorkerFailures, " not in text]
    assert missing == []
