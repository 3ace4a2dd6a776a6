"""Putting an agent session together from a project: stores, tools, permissions, skills, prompt and model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mimo_tui.agent.compose import ComposeLimits
from mimo_tui.agent.goal import OFFLINE_JUDGE, GoalSettings, register_offline_judge
from mimo_tui.agent.loop import AgentSession, AgentSettings, ContextBlock, Subscriber
from mimo_tui.agent.checkpoint_writer import CheckpointWriter
from mimo_tui.agent.context_keeper import ContextKeeper, KeeperSources
from mimo_tui.agent.context_limits import ContextConfigError, ContextLimits, limits_for
from mimo_tui.agent.mcp import McpServers
from mimo_tui.agent.modes import MODES
from mimo_tui.agent.offline_agent import register_offline_agent
from mimo_tui.agent.permissions import PermissionConfigError, PermissionPolicy, PermissionRule, config_with_rule
from mimo_tui.agent.prompt import build_system_prompt
from mimo_tui.agent.subagents import SubagentRegistry, checkpoint_written, progress_for_checkpoint
from mimo_tui.agent.tools.agent_tool import AgentTool
from mimo_tui.agent.tools.base import ToolContext
from mimo_tui.agent.tools.history_tool import HistoryIndexSearch, HistorySearch, MessageTableSearch
from mimo_tui.agent.tools.memory_access import MemoryAccess, SurfaceMemoryAccess
from mimo_tui.agent.tools.registry import default_tools
from mimo_tui.llm import ModelSpec, resolve_model
from mimo_tui.llm.models import missing_credentials
from mimo_tui.memory.context import ContextAssembler
from mimo_tui.memory.last_checkpoint import last_checkpoint_excerpt
from mimo_tui.memory.layers import GLOBAL_ROOT
from mimo_tui.memory.service import MemoryService
from mimo_tui.sessions.context_state import ContextStateStore
from mimo_tui.project import Project
from mimo_tui.sessions import HistorySink, SessionStore
from mimo_tui.skills import SkillCatalogue, load_catalogue, skill_roots
from mimo_tui.store import USER
from mimo_tui.tasks import TaskStore
from mimo_tui.tasks.records import BLOCKED, IN_PROGRESS, OPEN

ACTIVE_STATUSES = (OPEN, IN_PROGRESS, BLOCKED)
from mimo_tui.workspace import user_config_dir


class AgentSetupError(Exception):
    """The agent cannot start as configured; the message says what to fix and where."""


@dataclass
class AgentServices:
    """The stores and catalogues an agent session (and the panes beside it) share."""

    project: Project
    memory: MemoryService
    sessions: SessionStore
    tasks: TaskStore
    skills: SkillCatalogue
    history_sink: HistorySink | None = None
    history_search: HistorySearch | None = None
    context_block: ContextBlock | None = None
    problems: list[str] = field(default_factory=list)
    mcp: McpServers | None = None
    subagents: dict[str, SubagentRegistry] = field(default_factory=dict)  # by parent session id
    context_state: ContextStateStore | None = None
    _owns_memory: bool = field(default=False, repr=False)

    @classmethod
    def open(cls, project: Project, history_sink: HistorySink | None = None,
             memory: MemoryService | None = None) -> AgentServices:
        """Open the state database (messages also go to the history index), the skill catalogue and memory.

        `memory` is the app's memory service when the workbench shares one; without it the session opens its own.
        """
        from mimo_tui.memory.history_index import HistoryIndex

        state_db = project.workspace.state_db
        history = history_sink if history_sink is not None else HistoryIndex(state_db)
        sessions = SessionStore(state_db, history)
        tasks = TaskStore(state_db, project.store)
        extra = bool(project.config.get("agent.extra_skill_roots", False))
        skills = load_catalogue(skill_roots(project.root, user_config_dir() / "skills", extra))
        problems = [f"skill {problem}" for problem in skills.problems]
        problems += [str(problem) for problem in project.config.problems]
        search = HistoryIndexSearch(history) if isinstance(history, HistoryIndex) else None
        mcp = McpServers.from_config(project.config, project.root)
        problems += [str(problem) for problem in mcp.problems]
        services = cls(project, memory or MemoryService(project), sessions, tasks, skills, history, history_search=search,
                       problems=problems, mcp=mcp, context_state=ContextStateStore(state_db), _owns_memory=memory is None)
        services.connect_memory_context()
        return services

    def connect_memory_context(self) -> None:
        """Feed the task tree into context assembly and inject its memory block after the system prompt.

        The block is what the memory pane's context preview shows. The user's own recent messages are
        left out here: on an ordinary turn they are already in the transcript (they matter at a rebuild).
        """
        tasks = self.tasks
        sources = self.memory.sources  # shared with the assembler, so filled in place
        sources.task_ledger = lambda sid: "\n".join(task.line() for task in tasks.list(sid))
        sources.focus_task = lambda sid: _focus_text(self.project, tasks, sid)
        sources.has_open_work = lambda sid: any(task.status in ACTIVE_STATUSES for task in tasks.list(sid))
        sources.active_subagents = lambda sid: registry.active_block() if (registry := self.subagents.get(sid)) else ""
        mimo_dir = self.project.workspace.mimo_dir
        sources.previous_checkpoint = lambda sid: last_checkpoint_excerpt(mimo_dir, sid)
        self.context_block = lambda sid: self.memory.preview(sid).text

    def memory_for(self, session_id: str) -> MemoryAccess:
        """The memory tool's access for one session: the memory layer's surface over the shared index."""
        from mimo_tui.memory.surface import MemorySurface

        service = self.memory
        return SurfaceMemoryAccess(MemorySurface(self.project, service.roots.global_store, service.index),
                                   self.project.store, session_id)

    def close(self) -> None:
        if self.context_state is not None:
            self.context_state.close()
        self.sessions.close()
        self.tasks.close()
        close_history = getattr(self.history_sink, "close", None)
        if close_history is not None:
            close_history()
        if self._owns_memory:
            self.memory.close()


def _focus_text(project: Project, tasks: TaskStore, session_id: str) -> str:
    """The task in focus and its progress log."""
    task = tasks.focus(session_id)
    if task is None:
        return ""
    progress = project.store.read(tasks.progress_relpath(session_id, task.id)).text or ""
    return f"{task.line()}\n\n{progress}".strip()


def model_spec(project: Project, name: str | None) -> ModelSpec:
    """The spec of `name` (or the configured default), with its settings from `[models]`."""
    from mimo_tui.config import load_config

    register_offline_agent()
    chosen = name or str(project.config.get("model.default", "offline/agent"))
    # Read again: a model added to the config (or its secrets file) after start is usable at once.
    models = load_config(project.workspace.config_file).table("models") if name else project.config.table("models")
    try:
        return resolve_model(chosen, models)
    except Exception as exc:
        raise AgentSetupError(f"model {chosen!r}: {exc}") from exc


def config_entry_for(project: Project, model: str) -> str:
    """The `[models]` entry a session's model came from: sessions keep the model string (`openai/gpt-4o`), and an
    entry of another name (`test`) may hold its endpoint and key. The entry itself, else the default if it names this
    model, else the first that does; the model string when none does."""
    from mimo_tui.config import load_config

    config = load_config(project.workspace.config_file)  # read again, as `model_spec` does: edits since start count
    models = config.table("models")
    if model in models:
        return model
    default = str(config.get("model.default", ""))
    for name in [default, *models]:
        entry = models.get(name)
        if isinstance(entry, dict) and str(entry.get("model", "")).strip() == model:
            return name
    return model


def usable_model_spec(project: Project, name: str) -> ModelSpec:
    """`model_spec` for a switch the user asked for, refused at once when the model has no credentials."""
    spec = model_spec(project, name)
    problem = missing_credentials(spec, name)
    if problem is not None:
        raise AgentSetupError(problem)
    return spec


def goal_settings(project: Project, agent_spec: ModelSpec) -> GoalSettings:
    """`[goal]`: the judge model (default: the agent's own; the offline judge beside an offline agent) and caps."""
    register_offline_judge()
    name = str(project.config.get("goal.judge", "") or "").strip()
    if not name and agent_spec.offline:
        name = f"offline/{OFFLINE_JUDGE}"
    judge = model_spec(project, name) if name else None
    problem = missing_credentials(judge, name) if judge is not None else None
    if problem is not None:
        raise AgentSetupError(problem)
    turns = project.config.get("goal.max_turns", 10)
    cost = project.config.get("goal.max_cost_usd", 1.0)
    return GoalSettings(judge, int(turns) if isinstance(turns, int) and turns > 0 else 10,
                        float(cost) if isinstance(cost, (int, float)) else 1.0)


def compose_limits(project: Project) -> ComposeLimits:
    """`[compose] max_turns`: the turns one compose run may take (default 30; a value below 1 keeps the default)."""
    turns = project.config.get("compose.max_turns", ComposeLimits.max_turns)
    return ComposeLimits(turns if isinstance(turns, int) and not isinstance(turns, bool) and turns > 0
                         else ComposeLimits.max_turns)


def permission_policy(project: Project) -> PermissionPolicy:
    try:
        return PermissionPolicy.from_config(project.config.get("permissions.rules"), "permissions in " + _config_names(project))
    except PermissionConfigError as exc:
        raise AgentSetupError(str(exc)) from exc


def _config_names(project: Project) -> str:
    return ", ".join(str(path) for path in project.config.files) or "config"


def rule_saver(project: Project) -> Any:
    """A function that writes an "always" answer into the project config, as a commit of the memory repo."""

    def save(rule: PermissionRule) -> None:
        relpath = "config.toml"
        with project.store.exclusive():  # another mimo process may be saving a rule too: read under the lock
            current = project.store.read(relpath)
            text = config_with_rule(current.text or "", rule)
            project.store.write(relpath, text, USER, message=f"config: always allow {rule.tool} on {rule.pattern}",
                                base_digest=current.digest)

    return save


def open_agent_session(
    services: AgentServices,
    subscriber: Subscriber,
    gateway: Any,
    *,
    model: str | None = None,
    mode: str | None = None,
    resume: str | None = None,
    settings: AgentSettings | None = None,
) -> AgentSession:
    """A new session, or a resumed one (`resume` is a session id or prefix, or "last")."""
    project = services.project
    tools = default_tools(int(project.config.get("agent.bash_timeout_s", 120)))
    spec = model_spec(project, model)
    chosen_mode = mode or str(project.config.get("agent.mode", "build"))
    if chosen_mode not in MODES:
        raise AgentSetupError(f"mode {chosen_mode!r} is not one of {', '.join(MODES)}")
    if resume:
        session = services.sessions.last() if resume == "last" else services.sessions.find(resume)
        if session is None:
            session = services.sessions.create(spec.name, chosen_mode)
        else:
            if model is None and session.model:
                spec = model_spec(project, config_entry_for(project, session.model))
            if mode is None:
                chosen_mode = session.mode
    else:
        session = services.sessions.create(spec.name, chosen_mode)
    if session.mode != chosen_mode or session.model != spec.name:
        services.sessions.update(session.id, mode=chosen_mode, model=spec.name)
        session = services.sessions.get(session.id) or session
    context = ToolContext(
        project_root=project.root,
        session_id=session.id,
        mode=chosen_mode,
        services={
            "store": project.store,
            "tasks": services.tasks,
            "sessions": services.sessions,
            "skills": services.skills,
            "memory": services.memory_for(session.id),
            "history": services.history_search or MessageTableSearch(services.sessions),
            "compose": compose_limits(project),
        },
    )
    window = project.config.get("model.context_window", 128000)
    try:
        limits = limits_for(spec.name, int(window) if isinstance(window, int) else 128000, project.config.table("context"))
    except ContextConfigError as exc:
        raise AgentSetupError(f"{exc} (in {_config_names(project)})") from exc
    effective = settings or AgentSettings(context_window=limits.window)
    agent = AgentSession(
        gateway=gateway,
        spec=spec,
        sessions=services.sessions,
        session=session,
        tools={**tools, "agent": AgentTool()},
        policy=permission_policy(project),
        context=context,
        system_prompt=build_system_prompt(project.root, services.skills),
        subscriber=subscriber,
        settings=effective,
        context_block=services.context_block,
        remember_rule=rule_saver(project),
        tool_source=services.mcp.tools if services.mcp is not None else None,
    )
    registry = SubagentRegistry(agent, services.tasks, services.sessions, tools)
    context.services["subagents"] = services.subagents[agent.session_id] = registry
    if resume:
        registry.mark_lost_children()
    if services.context_state is not None and not spec.offline:
        agent.keeper = context_keeper(services, agent, gateway, limits)
        if resume:
            agent.rebuilt_on_open = agent.keeper.rebuilt_context(agent.transcript, agent.system_prompt)
    return agent


def context_keeper(services: AgentServices, agent: AgentSession, gateway: Any, limits: ContextLimits) -> ContextKeeper:
    """The session's checkpoint writer and rebuilds, on the session's own model (through the same gateway)."""
    project = services.project
    assert services.context_state is not None
    tasks = services.tasks
    writer = CheckpointWriter(
        gateway=gateway, spec=agent.spec, store=project.store, sessions=services.sessions, state=services.context_state,
        session_id=agent.session_id, limits=limits,
        task_tree=lambda sid: "\n".join(task.line() for task in tasks.list(sid)), emit=agent.emit,
        subagent_progress=lambda: progress_for_checkpoint(agent),
        subagents_folded=lambda ids: checkpoint_written(agent, ids),
        spent=lambda completion: agent.account_helper(completion, "checkpoint-writer"),
    )
    holder: list[ContextKeeper] = []
    sources = KeeperSources(services.memory.sources, lambda: holder[0] if holder else None)
    assembler = ContextAssembler(project.workspace.mimo_dir, services.memory.roots.folders.get(GLOBAL_ROOT),
                                 sources, project.root)  # type: ignore[arg-type]
    keeper = ContextKeeper(session_id=agent.session_id, limits=limits, writer=writer, state=services.context_state,
                           assembler=assembler, gateway=gateway, spec=agent.spec, emit=agent.emit,
                           spent=lambda completion: agent.account_helper(completion, "summariser"))
    keeper.tokens = agent.context_tokens
    holder.append(keeper)
    return keeper
