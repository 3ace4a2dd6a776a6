"""The app-owned services object: what every pane works on, built once by the app and handed to the panes.

Panes hold no engine state of their own: the project, its stores, the agent session, the model gateway and
the model worker live here. Nothing in this package imports Textual; heavy modules load on first use, so
building a `Services` costs nothing on the way to the first frame.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mimo_tui.services.trainer_proposals import TrainerProposals
from mimo_tui.store.records import StoreError

if TYPE_CHECKING:
    from mimo_tui.agent.loop import AgentSession, Subscriber
    from mimo_tui.agent.mcp import DeclarationChanges, McpServerChanged, McpServers
    from mimo_tui.agent.setup import AgentServices
    from mimo_tui.llm.worker_client import ModelWorker, WorkerGateway
    from mimo_tui.memory.service import MemoryService
    from mimo_tui.project import Project
    from mimo_tui.sessions import SessionStore
    from mimo_tui.skillopt.flip_table import StepItems
    from mimo_tui.skillopt.run_reader import RunFollower, RunStatus
    from mimo_tui.skills import SkillCatalogue
    from mimo_tui.tasks import TaskStore

SessionListener = Callable[[str], None]


@dataclass
class LaunchOptions:
    """How the user started the workbench: where, whether to resume the last session, which model."""

    start_dir: Path = field(default_factory=Path.cwd)
    resume: bool = False
    model: str | None = None


class ServicesNotReady(RuntimeError):
    """A pane asked for a service before the project (or the agent's stores) finished opening."""


class Services(TrainerProposals):
    """Project, memory, tasks, sessions, agent, gateway, model worker and trainer runs of one workbench."""

    def __init__(self, options: LaunchOptions | None = None) -> None:
        self.options = options or LaunchOptions()
        self.project: Project | None = None
        self._memory: MemoryService | None = None
        self.stores: AgentServices | None = None
        self.agent: AgentSession | None = None
        self.gateway: WorkerGateway | None = None
        self._model_worker: ModelWorker | None = None
        self._session_listeners: list[SessionListener] = []
        self._mcp_unsubscribe: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        # Sessions left by /new or a switch, still writing their queued messages before their writer thread ends.
        self._retiring: set[asyncio.Task[None]] = set()

    # -- opening --------------------------------------------------------------------------------
    def open_project(self, before_memory: Callable[[], object] | None = None) -> Project:
        """Locate and open the project (memory repo, config); disk and git work, so call it off the event loop.

        `before_memory` runs once the folder and its repo exist, before the memory service is loaded (its imports
        are most of the Python work here: the app holds them until its first frame is out).
        """
        from mimo_tui.project import Project

        project = Project.open(self.options.start_dir)
        if before_memory is not None:
            before_memory()
        self.use_project(project)
        return project

    def use_project(self, project: Project) -> None:
        """Adopt an opened project; its memory service (index, search, context) is shared by every pane."""
        from mimo_tui.memory.service import MemoryService

        with self._lock:
            if self.project is project:
                return
            if self._memory is not None:
                self._memory.close()
            self.project = project
            self._memory = MemoryService(project)

    def open_stores(self, project: Project) -> list[str]:
        """Open the session and task databases, skills and MCP config, and the gateway; returns problems to show.

        Disk work (state.db, the history index, the skill files): call it off the event loop.
        """
        from mimo_tui.agent.setup import AgentServices
        from mimo_tui.llm.worker_client import WorkerGateway

        self.use_project(project)
        stores = AgentServices.open(project, memory=self.memory)
        llm = project.config.table("llm")
        # Every model call runs in the model worker process: litellm never loads in the UI process.
        self.gateway = WorkerGateway(
            self.model_worker, max_concurrency=int(llm.get("max_concurrency", 8)),
            max_retries=int(llm.get("max_retries", 4)), timeout_s=float(llm.get("timeout_s", 120.0)),
        )
        self.stores = stores
        return list(stores.problems)

    def open_session(self, subscriber: Subscriber, *, model: str | None = None, mode: str | None = None,
                     resume: str | None = None) -> AgentSession:
        """A new agent session, or a resumed one (id or "last"); a database write: call it off the event loop.

        The session becomes current only when `make_current` is called, on the UI's thread.
        """
        from mimo_tui.agent.setup import open_agent_session

        return open_agent_session(self.require_stores(), subscriber, self.gateway, model=model, mode=mode, resume=resume)

    def make_current(self, agent: AgentSession) -> None:
        """The chat now runs `agent`: the old session's turn is cancelled, its queued writes land and its writer
        thread ends (off this thread); every listener hears the new session id."""
        old, self.agent = self.agent, agent
        if old is not None and old is not agent:
            self._retire(old)
        for listener in list(self._session_listeners):
            listener(agent.session_id)

    def follow_session(self, listener: SessionListener) -> Callable[[], None]:
        """Call `listener(session_id)` whenever the current session changes; returns the unsubscribe."""
        self._session_listeners.append(listener)
        return lambda: self._session_listeners.remove(listener) if listener in self._session_listeners else None

    # -- what panes ask for ---------------------------------------------------------------------
    @property
    def model_worker(self) -> ModelWorker:
        """The process that serves every model call of the app (created on first use)."""
        with self._lock:
            if self._model_worker is None:
                from mimo_tui.llm.worker_client import ModelWorker

                self._model_worker = ModelWorker()
            return self._model_worker

    def models_need_litellm(self) -> bool:
        """Whether the project names a model litellm must serve or price (default, --model, goal judge, [models]);
        a project of offline models and local servers' unpriced models never loads it, even in the worker. Reads
        litellm's price table: call it off the event loop."""
        from mimo_tui.llm.lean_openai import any_needs_litellm

        project = self.project
        if project is None:
            return True
        config = project.config
        models = config.table("models")
        named = [self.options.model or "", str(config.get("model.default", "offline/agent")), str(config.get("goal.judge", "") or "")]
        return any_needs_litellm([*named, *models], models)

    async def warm_model_worker(self) -> None:
        """Have the model worker load litellm now if a configured model needs it, so the first answer does not wait."""
        if self.gateway is not None and await asyncio.to_thread(self.models_need_litellm):
            await self.gateway.warm_up()

    @property
    def has_model_worker(self) -> bool:
        return self._model_worker is not None

    @property
    def session_id(self) -> str | None:
        """The chat's current session, which the other panes follow."""
        return self.agent.session_id if self.agent is not None else None

    @property
    def ready(self) -> bool:
        """Whether the stores are open (sessions, tasks, skills, MCP)."""
        return self.stores is not None

    def require_stores(self) -> AgentServices:
        if self.stores is None:
            raise ServicesNotReady("the project's stores are not open yet")
        return self.stores

    def require_project(self) -> Project:
        if self.project is None:
            raise ServicesNotReady("the project is not open yet")
        return self.project

    @property
    def memory(self) -> MemoryService:
        """Search, problems, context preview and history of the project's memory."""
        if self._memory is None:
            raise ServicesNotReady("the project is not open yet")
        return self._memory

    @property
    def sessions(self) -> SessionStore:
        return self.require_stores().sessions

    @property
    def tasks(self) -> TaskStore:
        return self.require_stores().tasks

    @property
    def skills(self) -> SkillCatalogue:
        return self.require_stores().skills

    @property
    def mcp(self) -> McpServers | None:
        return self.stores.mcp if self.stores is not None else None

    @property
    def problems(self) -> list[str]:
        return list(self.stores.problems) if self.stores is not None else []

    # -- trainer runs ---------------------------------------------------------------------------
    @property
    def runs_dir(self) -> Path:
        return self.require_project().workspace.runs_dir

    def run_statuses(self, live: set[str]) -> list[RunStatus]:
        """The project's training runs, newest first; `live` names runs whose process this app watches."""
        from mimo_tui.skillopt.run_reader import run_statuses

        return run_statuses(self.runs_dir, live)

    def follow_run(self, run_id: str) -> RunFollower:
        """A reader that polls one run folder for new events, its summary and the best skill's diff."""
        from mimo_tui.skillopt.run_reader import RunFollower

        return RunFollower(self.runs_dir / run_id)

    def step_items(self, run_id: str, step: int, flips: dict[str, str]) -> StepItems:
        """One step's items (validation flips, training results) with input, expected and outputs; reads files."""
        from mimo_tui.skillopt.flip_table import step_items

        return step_items(self.runs_dir / run_id, step, flips)

    def skill_version_text(self, run_id: str, version: int) -> str:
        """The text of one skill version of a run; reads a file (raises OSError when it is missing)."""
        from mimo_tui.skillopt.run_folder import skill_version_path

        return skill_version_path(self.runs_dir / run_id, version).read_text(encoding="utf-8")

    def give_candidate(self, run_id: str, kind: str, text: str) -> str:
        """Put a hand-made candidate ("edited" skill text or "feedback") in a run's inbox; returns its id.
        Raises SteeringError for an empty text or a folder that is no run."""
        from mimo_tui.skillopt.steering import give_candidate

        return give_candidate(self.runs_dir / run_id, kind, text).ident

    def has_hand_candidates(self, run_id: str) -> bool:
        """Whether candidates given by hand wait in the run's inbox (a finished run resumed judges them)."""
        from mimo_tui.skillopt.steering import pending_candidates

        return bool(pending_candidates(self.runs_dir / run_id)[0])

    def version_diff(self, run_id: str, old: int, new: int) -> str:
        """Unified diff between two skill versions of a run; reads files."""
        from mimo_tui.skillopt.run_reader import version_diff

        return version_diff(self.runs_dir / run_id, old, new)

    # -- MCP servers ----------------------------------------------------------------------------
    def start_mcp_servers(self, on_change: Callable[[McpServerChanged], None]) -> bool:
        """Start the project's MCP servers once; `on_change` hears each state change. False when none or started."""
        servers = self.mcp
        if servers is None or not servers.names or self._mcp_unsubscribe:
            return False
        self._mcp_unsubscribe.append(servers.subscribe(on_change))
        servers.start_all()
        return True

    def declare_new_mcp_servers(self) -> DeclarationChanges | None:
        """Read the config and `.mcp.json` again: servers declared, edited or removed since start; None without MCP.

        The agent asks this same registry for its tools on every turn, so an edited server's old tools are gone at
        once and the new ones usable once `start_new_mcp_servers` has it ready.
        """
        from mimo_tui.config import load_config

        servers, project = self.mcp, self.project
        if servers is None or project is None:
            return None
        return servers.add_declared(load_config(project.workspace.config_file), project.root)

    def start_new_mcp_servers(self, changes: DeclarationChanges, on_change: Callable[[McpServerChanged], None]) -> None:
        """Stop retired servers and start new or edited ones in the background (needs the running loop)."""
        servers = self.mcp
        if servers is None or changes.empty:
            return
        if not self._mcp_unsubscribe:
            self._mcp_unsubscribe.append(servers.subscribe(on_change))
        servers.apply(changes)

    async def stop_mcp_servers(self) -> None:
        """Stop every MCP server, after silencing their notifications (the app is closing)."""
        for unsubscribe in self._mcp_unsubscribe:
            unsubscribe()
        self._mcp_unsubscribe.clear()
        servers = self.mcp
        if servers is not None:
            await servers.stop_all()

    # -- closing --------------------------------------------------------------------------------
    def _retire(self, agent: AgentSession) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a plain call): nothing to keep free, close it here
            if agent.is_running:
                agent.cancel()
            agent.close()
            return
        task = loop.create_task(self._end_agent(agent=agent), name=f"retire session {agent.session_id}")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def _end_agent(self, grace_s: float = 3.0, agent: AgentSession | None = None) -> None:
        """Cancel a running turn and let it store its interrupted reply, then flush the agent's writes off the loop."""
        agent = agent or self.agent
        if agent is None:
            return
        from mimo_tui.agent.subagents import subagents_of

        if agent.is_running:  # first, so it starts nothing more (its foreground child is cancelled with it)
            agent.cancel()
        children = subagents_of(agent)
        if children is not None:  # before the stores close under them; a cancelled child ends at its next await
            await children.stop_all(max(grace_s, 10.0))
        if agent.is_running:
            deadline = asyncio.get_running_loop().time() + grace_s
            while agent.is_running and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
        # A write may wait on another process's lock (busy timeout): a thread keeps the loop free meanwhile.
        await asyncio.to_thread(agent.close)

    def task_progress(self, session_id: str, task_id: str) -> str | None:
        """The text of a task's progress.md, or None when it does not exist (a read of the memory repo)."""
        snapshot = self.memory.read(self.tasks.progress_relpath(session_id, task_id))
        return snapshot.text

    def close_stores(self) -> None:
        """Cancel a running turn, write the agent's queued session writes, close the session and task databases."""
        if self.agent is not None:
            if self.agent.is_running:
                self.agent.cancel()
            self.agent.close()
        if self.stores is not None:
            self.stores.close()
            self.stores = None

    async def close(self) -> None:
        """Everything the app opened: MCP servers, stores, the model worker, the memory index."""
        await self.stop_mcp_servers()
        if self._retiring:  # sessions left earlier finish their writes before the stores close
            await asyncio.wait(set(self._retiring), timeout=10)
        await self._end_agent()
        self.close_stores()
        if self._model_worker is not None:
            await self._model_worker.stop()
        if self._memory is not None:
            self._memory.close()


__all__ = ["LaunchOptions", "Services", "ServicesNotReady", "SessionListener", "StoreError"]

