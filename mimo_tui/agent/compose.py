"""Compose mode's task loop: a goal becomes a spec and a plan of tasks, then each task is worked to done.

The method itself is told to the model in compose mode's per-turn reminder (prompt.py); this driver only
decides what the next turn asks for, from the task store, until every task is done or the work is blocked.
A task's "done" already requires its progress log (tasks/store.py), so progress is kept as the work goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev
from mimo_tui.agent.loop import AgentSession
from mimo_tui.agent.modes import COMPOSE
from mimo_tui.tasks import BLOCKED, DONE, IN_PROGRESS, OPEN, Task, TaskStore

ATTEMPTS_PER_TASK = 2
SPEC_PROMPT = (
    "Compose goal: {goal}\n\n"
    "First write the spec to .mimo/plans/spec.md and the plan as tasks (task op=create, one per step, in order). "
    "Do not implement anything in this turn."
)
TASK_PROMPT = (
    "Next task of the plan: {id} {title}\n"
    "Start it (task op=start), implement it, test it, review your change, write its progress log "
    "(task op=progress) and mark it done (task op=done). If you cannot finish it, block it with the reason."
)


@dataclass(frozen=True)
class ComposeLimits:
    """Caps of one compose run (config `[compose]`)."""

    max_turns: int = 30


def next_task(tasks: list[Task]) -> Task | None:
    """The task to work on next: the one in progress, else the first open one whose subtasks are all finished."""
    unfinished_parents = {t.parent for t in tasks if t.parent and t.status not in (DONE, "abandoned")}
    ready = [t for t in tasks if t.status in (IN_PROGRESS, OPEN) and t.id not in unfinished_parents]
    ready.sort(key=lambda t: (t.status != IN_PROGRESS,))  # stable: plan order otherwise
    return ready[0] if ready else None


class ComposeDriver:
    """Drives one agent session through a compose run."""

    def __init__(self, agent: AgentSession, tasks: TaskStore, limits: ComposeLimits | None = None) -> None:
        self.agent = agent
        self.tasks = tasks
        self.limits = limits or ComposeLimits()
        self.turns = 0
        self.last_status = ev.TURN_DONE

    async def run(self, goal: str) -> str:
        """Spec and plan the goal, then work the plan task by task; returns how it ended."""
        agent = self.agent
        if agent.mode != COMPOSE:
            agent.set_mode(COMPOSE)
        sid = agent.session_id
        if next_task(self.tasks.list(sid)) is None:  # with unfinished tasks, a message continues the plan instead
            agent.emit(wev.ComposeStep("spec", "", goal.strip()[:80], agent.turn + 1))
            if not await self._turn(SPEC_PROMPT.format(goal=goal.strip())):
                return self._end(wev.STOPPED, "the planning turn did not finish")
            if next_task(self.tasks.list(sid)) is None:
                return self._end(wev.BLOCKED, "the plan has no open tasks; say what to build, or plan it with /task")
        attempts: dict[str, int] = {}
        while True:
            listed = self.tasks.list(sid)
            task = next_task(listed)
            if task is None:
                blocked = [t for t in listed if t.status == BLOCKED]
                if blocked:
                    reasons = "; ".join(f"{t.id}: {t.note or 'no reason given'}" for t in blocked)
                    return self._end(wev.BLOCKED, f"blocked: {reasons}")
                return self._end(wev.ALL_DONE, f"every task of the plan is finished ({len(listed)})")
            attempts[task.id] = attempts.get(task.id, 0) + 1
            if attempts[task.id] > ATTEMPTS_PER_TASK:
                return self._end(wev.BLOCKED, f"{task.id} is still {task.status} after {ATTEMPTS_PER_TASK} turns on it")
            if self.turns >= self.limits.max_turns:
                return self._end(wev.TURN_CAP, f"stopped after {self.turns} turns; say 'continue' to go on")
            agent.emit(wev.ComposeStep("task", task.id, task.title, agent.turn + 1))
            if not await self._turn(TASK_PROMPT.format(id=task.id, title=task.title)):
                return self._end(wev.STOPPED, f"the turn on {task.id} did not finish")

    async def _turn(self, prompt: str) -> bool:
        self.turns += 1
        self.last_status = await self.agent.run_turn(prompt)
        return self.last_status == ev.TURN_DONE

    def _end(self, outcome: str, reason: str) -> str:
        listed = self.tasks.list(self.agent.session_id)
        self.agent.emit(wev.ComposeEnded(
            outcome, reason, tuple(t.id for t in listed if t.status == DONE), tuple(t.id for t in listed if t.status == BLOCKED)))
        return outcome


async def run_user_request(agent: AgentSession, text: str, tasks: TaskStore) -> str:
    """What a message from the user starts: one turn, or in compose mode a whole compose run.

    Returns how the last turn ended (done, cancelled, error), as `AgentSession.run_turn` does.
    """
    if agent.mode != COMPOSE:
        return await agent.run_turn(text)
    limits = agent.context.services.get("compose")
    driver = ComposeDriver(agent, tasks, limits if isinstance(limits, ComposeLimits) else None)
    await driver.run(text)
    return driver.last_status
