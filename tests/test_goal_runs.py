"""`/goal CONDITION` against the local server: a separate judge model, its verdicts, the turn cap and the cost cap."""

from __future__ import annotations

import json

from mimo_tui.agent import work_events as wev
from mimo_tui.agent.goal import GoalRunner, parse_verdict
from mimo_tui.agent.setup import goal_settings
from tests.fixtures.agent_project import AgentProject, RecordedEvents
from tests.fixtures.openai_server import LocalOpenAIServer, Reply


def use_server_with_judge(project: AgentProject, base_url: str, extra: str = "", judge_model: str = "openai/judge") -> None:
    project.write_config(
        f'[models.test]\nmodel = "openai/test"\napi_base = "{base_url}"\n'
        f'[models.judge]\nmodel = "{judge_model}"\napi_base = "{base_url}"\napi_key = "sk-test"\n'
        f'[goal]\njudge = "judge"\n{extra}'
    )


def verdict(met: bool, reason: str, **usage: int) -> Reply:
    return Reply(text=json.dumps({"met": met, "reason": reason}), **usage)


async def test_goal_runs_until_a_separate_judge_says_it_holds(agent_project: AgentProject,
                                                             openai_server: LocalOpenAIServer) -> None:
    use_server_with_judge(agent_project, openai_server.base_url)
    openai_server.queue(
        Reply(text="I wrote half of the docs."),
        verdict(False, "the usage section is missing"),
        Reply(text="Added the usage section; docs complete."),
        verdict(True, "the reply shows the usage section was added"),
    )
    events = RecordedEvents()
    agent = agent_project.open(events)
    settings = goal_settings(agent_project.services.project, agent.spec)
    assert settings.judge is not None and settings.judge.name == "openai/judge"
    outcome = await GoalRunner(agent, settings).run("the docs have a usage section")
    assert outcome == wev.GOAL_MET
    models = [r["model"] for r in openai_server.requests]
    assert models == ["test", "judge", "test", "judge"]
    # the judge reads the goal and the conversation; the agent's next turn carries the judge's reason
    judge_prompt = openai_server.requests[1]["messages"][-1]["content"]
    assert "Goal condition: the docs have a usage section" in judge_prompt and "I wrote half of the docs." in judge_prompt
    assert "the usage section is missing" in openai_server.requests[2]["messages"][-1]["content"]
    judged = events.of(wev.GoalJudged)
    assert [j.met for j in judged] == [False, True]
    ended = events.of(wev.GoalEnded)[-1]
    assert (ended.outcome, ended.turns) == ("met", 2)
    assert "goal met after 2 turn(s)" in wev.describe(ended)


async def test_goal_stops_at_the_turn_cap(agent_project: AgentProject, openai_server: LocalOpenAIServer) -> None:
    use_server_with_judge(agent_project, openai_server.base_url, "max_turns = 2\n")
    openai_server.queue(Reply(text="try 1"), verdict(False, "no tests yet"), Reply(text="try 2"), verdict(False, "still none"))
    events = RecordedEvents()
    agent = agent_project.open(events)
    outcome = await GoalRunner(agent, goal_settings(agent_project.services.project, agent.spec)).run("tests pass")
    assert outcome == wev.TURN_CAP and len(openai_server.requests) == 4
    assert "not met after 2 turns: still none" in events.of(wev.GoalEnded)[-1].reason


async def test_goal_stops_at_the_cost_cap_counting_the_judge(agent_project: AgentProject,
                                                            openai_server: LocalOpenAIServer) -> None:
    # A judge with a real price (gpt-4o-mini's, from litellm's local cost map) that reads a huge prompt.
    use_server_with_judge(agent_project, openai_server.base_url, "max_cost_usd = 0.05\n", judge_model="openai/gpt-4o-mini")
    openai_server.queue(Reply(text="step"), verdict(False, "not yet", prompt_tokens=1_000_000))
    events = RecordedEvents()
    agent = agent_project.open(events)
    outcome = await GoalRunner(agent, goal_settings(agent_project.services.project, agent.spec)).run("done")
    assert outcome == wev.COST_CAP and len(openai_server.requests) == 2
    ended = events.of(wev.GoalEnded)[-1]
    assert ended.cost_usd >= 0.05 and "cap $0.05" in ended.reason


def test_verdict_parsing_is_strict_about_what_counts_as_met() -> None:
    assert parse_verdict('Sure: {"met": true, "reason": "tests pass"}').met
    assert not parse_verdict('{"met": "yes"}').met
    assert parse_verdict("YES, the file exists").met
    assert not parse_verdict("I think so, probably").met
    assert not parse_verdict("").met


def test_offline_judge_wants_evidence_not_an_echo_of_the_condition() -> None:
    from mimo_tui.agent.goal import offline_judge

    def judge(last_reply: str) -> bool:
        prompt = f"Goal condition: tests pass\n\nEnd of the conversation:\n\n### user\nhi\n\n### assistant\n{last_reply}"
        return json.loads(offline_judge([{"role": "user", "content": prompt}], None, {}).text)["met"]

    assert not judge('I received: "work until tests pass". I cannot act on that.')
    assert judge("pytest ran: the tests now pass (12 passed).")
    assert not judge("I will make the tests green.")


async def test_offline_a_goal_the_offline_agent_cannot_reach_is_not_judged_met(agent_project: AgentProject) -> None:
    # Tried by hand: `/goal the project has a README` offline said "goal met after 2 turn(s)" with no README. The
    # offline agent quotes the request it cannot act on; that request quotes the judge's last reason, which names
    # the very words missing, so the echo held every word of the condition.
    agent_project.write_config('[goal]\nmax_turns = 3\n')
    events = RecordedEvents()
    agent = agent_project.open(events, model="offline/agent")
    outcome = await GoalRunner(agent, goal_settings(agent_project.services.project, agent.spec)).run(
        "the project has a README")
    assert outcome == wev.TURN_CAP, events.of(wev.GoalJudged)
    assert [j.met for j in events.of(wev.GoalJudged)] == [False, False, False]


async def test_a_failing_judge_stops_the_run_and_says_why(agent_project: AgentProject,
                                                         openai_server: LocalOpenAIServer) -> None:
    from tests.fixtures.openai_server import ErrorReply

    use_server_with_judge(agent_project, openai_server.base_url)
    openai_server.queue(Reply(text="worked"), ErrorReply(400, "model 'judge' does not exist"))
    events = RecordedEvents()
    agent = agent_project.open(events)
    outcome = await GoalRunner(agent, goal_settings(agent_project.services.project, agent.spec)).run("x holds")
    assert outcome == wev.STOPPED
    reason = events.of(wev.GoalEnded)[-1].reason
    assert reason.startswith("the judge openai/judge failed") and "does not exist" in reason


def test_mimo_run_goal_exits_1_when_the_goal_is_not_met(agent_project: AgentProject, openai_server: LocalOpenAIServer,
                                                         capsys, monkeypatch) -> None:
    from mimo_tui.cli import main

    monkeypatch.chdir(agent_project.root)
    use_server_with_judge(agent_project, openai_server.base_url, "max_turns = 1\n")
    openai_server.queue(Reply(text="tried"), verdict(False, "no"), Reply(text="the docs are written"), verdict(True, "yes"))
    code = main(["run", "--json", "--model", "test", "--goal", "the docs are written"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 1 and record["work"][-1].startswith("◎ goal turn cap after 1 turn(s)")
    code = main(["run", "--json", "--model", "test", "--goal", "the docs are written"])
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and record["status"] == "done" and record["work"][-1].startswith("◎ goal met")


async def test_a_judge_without_credentials_is_named_before_any_turn(agent_project: AgentProject,
                                                                   openai_server: LocalOpenAIServer,
                                                                   monkeypatch) -> None:
    import pytest

    from mimo_tui.agent.goal import GoalSettings
    from mimo_tui.agent.setup import AgentSetupError
    from mimo_tui.llm import resolve_model

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    agent_project.write_config(f'[models.test]\nmodel = "openai/test"\napi_base = "{openai_server.base_url}"\n'
                               '[goal]\njudge = "anthropic/claude-3-5-haiku-latest"\n')
    events = RecordedEvents()
    agent = agent_project.open(events)
    with pytest.raises(AgentSetupError, match="ANTHROPIC_API_KEY"):
        goal_settings(agent_project.services.project, agent.spec)
    # The runner checks too (a judge handed to it by other means): it stops before the first turn.
    outcome = await GoalRunner(agent, GoalSettings(resolve_model("anthropic/claude-3-5-haiku-latest"))).run("done")
    assert outcome == wev.STOPPED and not openai_server.requests
    [ended] = events.of(wev.GoalEnded)
    assert ended.turns == 0 and "ANTHROPIC_API_KEY" in ended.reason
