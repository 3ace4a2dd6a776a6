"""The chat's slash commands: one table of name, help and handler; add a command by adding an entry here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mimo_tui.agent.modes import MODES, next_mode

if TYPE_CHECKING:
    from mimo_tui.ui.chat.chat_view import ChatView

Handler = Callable[["ChatView", str], Awaitable[None]]


@dataclass(frozen=True)
class SlashCommand:
    """One `/name`: what `/help` says about it and what it does with the text after it."""

    name: str
    help: str
    run: Handler


async def _help(pane: ChatView, argument: str) -> None:
    from mimo_tui.ui.chat.assistant_message import AssistantMessage

    lines = "\n".join(f"- `{command.name}` — {command.help}" for command in COMMANDS)
    keys = ("**Keys**\n\n- `F1` chat, `F2` memory, `F3` tasks, `F4` trainer\n"
            "- `F6` switches the side column (tasks, memory, trainer), `F7` hides or shows it, `F11` maximises the pane\n"
            "- `Ctrl+P` the palette: every command of every pane\n- `Esc` cancels a running turn; `Tab` cycles build / plan / compose")
    await pane.conversation.mount(AssistantMessage(f"**Commands**\n\n{lines}\n\n{keys}"))


async def _mode(pane: ChatView, argument: str) -> None:
    agent = pane.agent
    if agent is None:
        return
    mode = argument or next_mode(agent.mode)
    if mode not in MODES:
        pane.notify(f"unknown mode {mode!r}; modes: {', '.join(MODES)}", severity="error")
    else:
        agent.set_mode(mode)


async def _goal(pane: ChatView, argument: str) -> None:
    from mimo_tui.ui.chat.assistant_message import AssistantMessage

    if not argument:
        await pane.conversation.mount(AssistantMessage(
            "**/goal CONDITION** — the agent keeps working, turn after turn, until a judge model says the condition "
            "holds (`[goal] judge` in the config; default: the agent's own model, or an offline word-match judge beside "
            "the offline agent), or the turn cap "
            "(`[goal] max_turns`) or the cost cap (`[goal] max_cost_usd`) is reached. Esc stops it."))
        return
    pane.run_goal(argument)


async def _model(pane: ChatView, argument: str) -> None:
    if not argument:
        pane.notify(f"model: {pane.agent.spec.label if pane.agent else '?'}; /model NAME switches", timeout=6)
    else:
        await pane.switch_model(argument)


async def _new(pane: ChatView, argument: str) -> None:
    await pane.start_session(model=pane.services.options.model)


async def _sessions(pane: ChatView, argument: str) -> None:
    pane.open_session_picker()


async def _memory(pane: ChatView, argument: str) -> None:
    await pane.show_pane("memory")


async def _task(pane: ChatView, argument: str) -> None:
    services = pane.services
    if argument and services.ready and services.session_id is not None:
        pane.add_task(argument)
    else:
        await pane.show_pane("tasks")


async def _mcp(pane: ChatView, argument: str) -> None:
    await pane.run_mcp_command(argument)


async def _agents(pane: ChatView, argument: str) -> None:
    from mimo_tui.agent.subagents import subagents_of
    from mimo_tui.tasks import TaskError
    from mimo_tui.ui.chat.assistant_message import AssistantMessage

    registry = subagents_of(pane.agent) if pane.agent is not None else None
    operation, _, agent_id = argument.partition(" ")
    if registry is None:
        pane.notify("this session cannot start subagents", timeout=4)
    elif not operation:
        lines = "\n".join(f"- `{record.line()}`" for record in registry.agents.values())
        await pane.conversation.mount(AssistantMessage(
            f"**Subagents of this session**\n\n{lines or 'none yet: the agent starts one on a task with its `agent` tool'}"
            "\n\n`/agents show ID` shows its steps; `/agents cancel ID` stops one; abandoning its task (F3, x) "
            "stops it too."))
    elif operation == "show" and agent_id.strip():
        try:
            record, steps = registry.get(agent_id), registry.steps(agent_id)
        except TaskError as exc:
            pane.notify(str(exc), severity="error", timeout=6)
            return
        body = "\n".join(steps) or "(nothing yet)"
        await pane.conversation.mount(AssistantMessage(
            f"**Subagent {record.line()}** · {record.tool_calls} tool calls\n\n```text\n{body}\n```"))
    elif operation == "cancel" and agent_id.strip():
        try:
            record = registry.cancel(agent_id)
        except TaskError as exc:
            pane.notify(str(exc), severity="error", timeout=6)
            return
        said = f"stopping subagent {record.id} on {record.task_id}" if record.state == "running" else (
            f"subagent {record.id} is {record.state} already")
        pane.notify(said, title="subagents", timeout=4)
    else:
        pane.notify("usage: /agents (list them), /agents show ID (its steps) or /agents cancel ID",
                    severity="error", timeout=6)


async def _checkpoint(pane: ChatView, argument: str) -> None:
    keeper = pane.agent.keeper if pane.agent is not None else None
    if keeper is None:
        pane.notify("no checkpoint writer here: the offline demo model keeps no context to checkpoint", timeout=6)
        return
    said = {"started": "writing a checkpoint now", "queued": "a checkpoint is queued behind the one being written",
            "busy": "another mimo process is writing this session's checkpoint"}
    pane.notify(said.get(keeper.request_checkpoint(), "the checkpoint writer is stopped"), title="checkpoint", timeout=4)
    pane.update_status()


async def _compact(pane: ChatView, argument: str) -> None:
    keeper = pane.agent.keeper if pane.agent is not None else None
    if keeper is None:
        pane.notify("nothing to compact: the offline demo model keeps no context window", timeout=6)
        return
    keeper.request_checkpoint()
    keeper.request_compact()
    pane.notify("checkpointing now; the context is rebuilt from it before the next request", title="compact",
                timeout=6)
    pane.update_status()


async def _dream(pane: ChatView, argument: str) -> None:
    from mimo_tui.ui.dream_review import DreamReviewScreen

    if pane.services.project is None:
        pane.notify("the project is not open yet", severity="warning")
        return
    await pane.show_pane("memory")
    pane.app.push_screen(DreamReviewScreen(pane.services))


async def _distill(pane: ChatView, argument: str) -> None:
    from mimo_tui.ui.distill_review import DistillReviewScreen

    if not pane.services.ready:
        pane.notify("the project's stores are not open yet", severity="warning")
        return
    pane.app.push_screen(DistillReviewScreen(pane.services))


async def _dataset(pane: ChatView, argument: str) -> None:
    from mimo_tui.ui.dataset_review import DatasetReviewScreen

    if not pane.services.ready:
        pane.notify("the project's stores are not open yet", severity="warning")
        return
    pane.app.push_screen(DatasetReviewScreen(pane.services, argument.strip() or None))


COMMANDS: list[SlashCommand] = [
    SlashCommand("/help", "list the commands", _help),
    SlashCommand("/mode", "switch mode: /mode build | plan | compose (or press Tab)", _mode),
    SlashCommand("/goal", "work until a judge model says CONDITION holds: /goal CONDITION", _goal),
    SlashCommand("/model", "use another model: /model openai/gpt-4o-mini", _model),
    SlashCommand("/new", "start a new session", _new),
    SlashCommand("/sessions", "pick a session to resume", _sessions),
    SlashCommand("/memory", "open the memory pane", _memory),
    SlashCommand("/task", "add a task: /task TITLE (or open the task pane)", _task),
    SlashCommand("/agents", "this session's subagents; /agents show ID (its steps), /agents cancel ID", _agents),
    SlashCommand("/checkpoint", "write the session checkpoint now (in the background)", _checkpoint),
    SlashCommand("/compact", "checkpoint, then rebuild the context from it before the next request", _compact),
    SlashCommand("/dream", "consolidate memory now (one commit); shows the review, r reverts it", _dream),
    SlashCommand("/distill", "turn workflows repeated in past sessions into commands, skills or subagents", _distill),
    SlashCommand("/dataset", "review a skill's drafted dataset item by item, then train it (staged): /dataset SKILL",
                 _dataset),
    SlashCommand("/mcp", "MCP servers: state, tools, errors; /mcp restart NAME, /mcp stop NAME", _mcp),
]


def find_command(name: str) -> SlashCommand | None:
    return next((command for command in COMMANDS if command.name == name), None)


def command_names() -> list[str]:
    """The names the prompt completes."""
    return [command.name for command in COMMANDS]


async def run_slash_command(pane: ChatView, text: str) -> None:
    """Run `/name argument` typed into the chat's prompt."""
    name, _, argument = text.partition(" ")
    command = find_command(name)
    if command is not None:
        await command.run(pane, argument.strip())
    else:  # a project command (`.mimo/commands/NAME.md`), or unknown: looked up off the event loop
        pane.run_project_command(name, argument)
    pane.conversation.scroll_end(animate=False)
