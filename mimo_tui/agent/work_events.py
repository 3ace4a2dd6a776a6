"""Events of long work above single turns: /goal runs, compose runs and subagents (typed, like events.py)."""

from __future__ import annotations

from dataclasses import dataclass

# How a /goal run or a compose run ended.
GOAL_MET = "met"
TURN_CAP = "turn cap"
COST_CAP = "cost cap"
STOPPED = "stopped"
ALL_DONE = "done"
BLOCKED = "blocked"


@dataclass(frozen=True)
class GoalStarted:
    """`/goal CONDITION` began: the agent works until the judge model says the condition holds."""

    condition: str
    judge: str
    max_turns: int
    max_cost_usd: float


@dataclass(frozen=True)
class GoalJudged:
    """The judge's verdict after the run's `turn`-th working turn (1, 2 ...)."""

    turn: int
    met: bool
    reason: str
    judge_cost_usd: float


@dataclass(frozen=True)
class GoalEnded:
    """The /goal run is over: met, turn cap, cost cap or stopped (a turn failed or was cancelled)."""

    outcome: str
    turns: int
    cost_usd: float
    reason: str = ""


@dataclass(frozen=True)
class ComposeStep:
    """Compose mode moved on: `phase` is spec (goal -> spec and plan) or task (one task of the plan)."""

    phase: str
    task_id: str
    title: str
    turn: int


@dataclass(frozen=True)
class ComposeEnded:
    """Compose mode stopped: done (every task done), blocked, turn cap or stopped."""

    outcome: str
    reason: str
    done: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubagentChanged:
    """A subagent bound to a task started, finished, failed or was cancelled."""

    agent_id: str
    task_id: str
    state: str
    child_session: str
    background: bool
    summary: str = ""


@dataclass(frozen=True)
class SubagentProgress:
    """A running subagent called a tool: how many it has called so far, and this one."""

    agent_id: str
    task_id: str
    background: bool
    tool_calls: int
    last_call: str


WorkEvent = GoalStarted | GoalJudged | GoalEnded | ComposeStep | ComposeEnded | SubagentChanged | SubagentProgress


def describe(event: WorkEvent) -> str:
    """One line for the chat and the headless printer."""
    if isinstance(event, GoalStarted):
        cost = f", ${event.max_cost_usd:.2f}" if event.max_cost_usd > 0 else ""
        return f"◎ goal: {event.condition}  (judge {event.judge}; cap {event.max_turns} turns{cost})"
    if isinstance(event, GoalJudged):
        return f"◎ judge after turn {event.turn}: {'met' if event.met else 'not met'} — {event.reason}"
    if isinstance(event, GoalEnded):
        return f"◎ goal {event.outcome} after {event.turns} turn(s), ${event.cost_usd:.4f}" + (
            f": {event.reason}" if event.reason else "")
    if isinstance(event, ComposeStep):
        return f"▣ compose: {'spec and plan' if event.phase == 'spec' else f'{event.task_id} {event.title}'}"
    if isinstance(event, ComposeEnded):
        done = f" (done: {', '.join(event.done)})" if event.done else ""
        return f"▣ compose {event.outcome}: {event.reason}{done}"
    if isinstance(event, SubagentProgress):
        where = "background" if event.background else "foreground"
        calls = f"{event.tool_calls} tool call{'s' if event.tool_calls != 1 else ''}"
        return f"⧉ subagent {event.agent_id} on {event.task_id} ({where}): running · {calls} · {event.last_call}"
    if isinstance(event, SubagentChanged):
        where = "background" if event.background else "foreground"
        return f"⧉ subagent {event.agent_id} on {event.task_id} ({where}): {event.state}" + (
            f" — {event.summary}" if event.summary else "")
    return ""
