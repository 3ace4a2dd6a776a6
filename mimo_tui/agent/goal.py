"""`/goal CONDITION`: the agent keeps working, turn after turn, until a judge model says the condition holds.

The judge may be another (cheaper) model than the agent's (`[goal] judge`); a turn cap and a cost cap (the
agent's and the judge's spend together) end a run that does not converge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from mimo_tui.agent import events as ev
from mimo_tui.agent import work_events as wev
from mimo_tui.agent.loop import AgentSession
from mimo_tui.llm import ModelError, ModelSpec, OfflineReply, register_offline_model
from mimo_tui.llm.models import missing_credentials

MAX_JUDGED_MESSAGES = 12
MAX_JUDGED_CHARS = 1500
JUDGE_SYSTEM = (
    "You judge whether a coding agent's goal holds. You see the goal and the end of its conversation (its "
    "messages and tool results). Answer with one JSON object and nothing else: "
    '{"met": true or false, "reason": "one sentence: the evidence, or what is still missing"}. '
    "Say met only when the conversation shows evidence that the condition holds, not just a claim of intent."
)


@dataclass(frozen=True)
class GoalSettings:
    """The judge and the caps of a /goal run (config `[goal]`)."""

    judge: ModelSpec | None = None  # None: the agent's own model judges
    max_turns: int = 10
    max_cost_usd: float = 1.0


@dataclass(frozen=True)
class Verdict:
    met: bool
    reason: str


def parse_verdict(text: str) -> Verdict:
    """The judge's answer: a JSON object {"met", "reason"}, else a leading yes/no; anything else is not met."""
    found = re.search(r"\{.*\}", text, re.S)
    if found:
        try:
            data = json.loads(found.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("met"), bool):
            return Verdict(data["met"], str(data.get("reason", "")).strip())
    head = text.strip().lower()
    if head.startswith(("yes", "met")):
        return Verdict(True, text.strip()[:300])
    return Verdict(False, text.strip()[:300] or "the judge gave no verdict")


def judged_transcript(agent: AgentSession) -> str:
    """The end of the conversation as the judge reads it: the last messages, each cut to a readable size."""
    lines: list[str] = []
    for message in agent.transcript[-MAX_JUDGED_MESSAGES:]:
        text = message.content or ""
        if message.role == "assistant" and message.tool_calls:
            calls = ", ".join(f"{c.get('function', {}).get('name')}({c.get('function', {}).get('arguments', '')})"
                              for c in message.tool_calls)
            text = f"{text}\n[calls {calls}]".strip()
        if len(text) > MAX_JUDGED_CHARS:
            text = text[:MAX_JUDGED_CHARS] + f" [... {len(text) - MAX_JUDGED_CHARS} characters cut]"
        who = f"tool {message.tool_name}" if message.role == "tool" else message.role
        lines.append(f"### {who}\n{text}")
    return "\n\n".join(lines)


class GoalRunner:
    """Runs turns of one agent session until the judge says the goal holds, or a cap is reached."""

    def __init__(self, agent: AgentSession, settings: GoalSettings) -> None:
        self.agent = agent
        self.settings = settings
        self.judge_cost = 0.0
        self.last_status = ev.TURN_DONE

    @property
    def judge_spec(self) -> ModelSpec:
        return self.settings.judge or self.agent.spec

    async def run(self, condition: str) -> str:
        """Work toward `condition`; returns how the run ended (met, turn cap, cost cap, stopped)."""
        condition = condition.strip()
        agent = self.agent
        start_cost = agent.cost_usd
        agent.emit(wev.GoalStarted(condition, self.judge_spec.name, self.settings.max_turns, self.settings.max_cost_usd))
        problem = missing_credentials(self.judge_spec)
        if problem is not None:  # no turn is worth running when no verdict can come
            return self._end(wev.STOPPED, 0, 0.0, f"the judge cannot be called: {problem}")
        prompt = (f"Goal: work until this condition holds: {condition}\n"
                  "Keep going without asking me; a judge checks the condition after each of your turns.")
        turns = 0
        while True:
            status = self.last_status = await agent.run_turn(prompt)
            turns += 1
            spent = agent.cost_usd - start_cost  # the judge, writer and subagents included
            if status != ev.TURN_DONE:
                return self._end(wev.STOPPED, turns, spent, f"the turn ended with {status}")
            try:
                verdict = await self._judge(condition)
            except ModelError as exc:
                return self._end(wev.STOPPED, turns, spent, f"the judge {self.judge_spec.name} failed: {exc}")
            spent = agent.cost_usd - start_cost  # the judge, writer and subagents included
            agent.emit(wev.GoalJudged(turns, verdict.met, verdict.reason, self.judge_cost))
            if verdict.met:
                return self._end(wev.GOAL_MET, turns, spent, verdict.reason)
            if turns >= self.settings.max_turns:
                return self._end(wev.TURN_CAP, turns, spent, f"not met after {turns} turns: {verdict.reason}")
            if self.settings.max_cost_usd > 0 and spent >= self.settings.max_cost_usd:
                return self._end(wev.COST_CAP, turns, spent,
                                 f"${spent:.4f} spent (cap ${self.settings.max_cost_usd:.2f}): {verdict.reason}")
            prompt = f"The goal is not met yet. The judge says: {verdict.reason}\nKeep working until: {condition}"

    async def _judge(self, condition: str) -> Verdict:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Goal condition: {condition}\n\nEnd of the conversation:\n\n"
                                        f"{judged_transcript(self.agent)}"},
        ]
        completion = await self.agent.gateway.complete(self.judge_spec, messages)
        self.judge_cost += completion.usage.cost_usd
        await self.agent.account_helper(completion, "goal judge")
        return parse_verdict(completion.text)

    def _end(self, outcome: str, turns: int, spent: float, reason: str) -> str:
        self.agent.emit(wev.GoalEnded(outcome, turns, spent, reason))
        return outcome


# -- the offline judge -------------------------------------------------------------------------------
OFFLINE_JUDGE = "goal-judge"
_WORD = re.compile(r"[a-z0-9_./-]{3,}")


def offline_judge(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, params: dict[str, Any]) -> OfflineReply:
    """Rule-driven stand-in: met when every word of the condition occurs in the conversation's last reply."""
    prompt = str(messages[-1].get("content", "")) if messages else ""
    condition = prompt.partition("Goal condition: ")[2].partition("\n")[0].lower()
    last = _words(_last_part(prompt, "### assistant\n"))
    # A reply that repeats the condition, or the request it answers (which quotes the condition and the judge's
    # last reason, naming the very words missing), is an echo, not evidence.
    for echoed in (_words(_last_part(prompt, "### user\n")), _words(condition)):
        if echoed:
            last = last.replace(echoed, " ")
    missing = [word for word in _WORD.findall(condition) if word not in last]
    verdict = {"met": not missing, "reason": "(offline judge: word match) " + (
        "the last reply names every word of the condition" if not missing else f"the last reply lacks {', '.join(missing[:5])}")}
    return OfflineReply(text=json.dumps(verdict))


def _last_part(prompt: str, head: str) -> str:
    parts = prompt.split(head)[1:]
    return parts[-1].split("\n### ")[0] if parts else ""


def _words(text: str) -> str:
    return " ".join(text.lower().replace('"', " ").split())


def register_offline_judge() -> None:
    register_offline_model(OFFLINE_JUDGE, offline_judge)
