"""The chat pane driven through the TUI with Pilot against the local OpenAI-compatible server."""

from __future__ import annotations

import json
import tomllib

from mimo_tui.ui.chat.assistant_message import AssistantMessage
from mimo_tui.ui.chat.error_block import ErrorBlock
from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
from mimo_tui.ui.chat.tool_call_block import ToolCallBlock
from mimo_tui.ui.chat.user_message import UserMessage
from tests.fixtures.agent_project import AgentProject
from tests.fixtures.chat_app import send, wait_for_agent, wait_idle, wait_until
from tests.fixtures.openai_server import CutStream, ErrorReply, LocalOpenAIServer, Reply, ToolCall

SIZE = (110, 36)


def use_server(project: AgentProject, server: LocalOpenAIServer) -> None:
    project.write_config(
        f'[model]\ndefault = "test"\n\n[models.test]\nmodel = "openai/test"\napi_base = "{server.base_url}"\n'
        "\n[llm]\nmax_retries = 2\n"
    )


def assistant_text(app) -> str:
    return "\n".join(block.source for block in app.query(AssistantMessage))


async def test_multi_turn_with_tool_calls_in_the_tui(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(
        Reply(text="Looking at src.", tool_calls=[ToolCall("list_dir", '{"path": "src"}')]),
        Reply(text="There is **app.py** in src."),
        Reply(text="Second answer."),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "what is in src?")
        await wait_idle(pilot)
        await send(pilot, "thanks")
        await wait_idle(pilot)
        blocks = list(app.query(ToolCallBlock))
        assert len(blocks) == 1 and blocks[0].status == "ok" and blocks[0].content == "app.py"
        assert "list_dir src · ok" in str(blocks[0].title)
        assert "There is **app.py** in src." in assistant_text(app) and "Second answer." in assistant_text(app)
        assert [u.text for u in app.query(UserMessage)] == ["what is in src?", "thanks"]
        status = str(app.query_one("#agent-status").render())
        assert "openai/test" in status and "/128K (" in status


async def test_rate_limit_then_success_and_cut_stream_with_retry(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(
        ErrorReply(429, "Rate limit reached", retry_after=0.01), Reply(text="after the rate limit"),
        CutStream("half an ans"), Reply(text="whole answer"),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        await send(pilot, "one")
        await wait_idle(pilot)
        assert "after the rate limit" in assistant_text(app) and not app.query(ErrorBlock)
        await send(pilot, "two")
        await wait_idle(pilot)
        error = app.query_one(ErrorBlock)
        assert "half an ans" in assistant_text(app)
        assert error.provider_message
        await pilot.click("#retry")
        await wait_until(pilot, lambda: "whole answer" in assistant_text(app), what="the retried answer")
        assert list(app.query(AssistantMessage))[-2].has_class("interrupted")


async def test_malformed_json_path_escape_and_plan_mode(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    edit = json.dumps({"path": "src/app.py", "old_text": "def greet", "new_text": "def hi"})
    openai_server.queue(
        Reply(tool_calls=[ToolCall("read_file", '{"path": '), ToolCall("read_file", '{"path": "../../etc/passwd"}')]),
        Reply(text="I will fix that."),
        Reply(tool_calls=[ToolCall("edit_file", edit)]),
        Reply(text="Plan mode stopped me."),
    )
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "read things")
        await wait_idle(pilot)
        malformed, escape = list(app.query(ToolCallBlock))
        assert malformed.status == "error" and "not valid JSON" in malformed.content
        assert escape.status == "refused" and "outside the project root" in escape.content
        app.query_one("#prompt").focus()
        await pilot.press("tab")
        assert pane.agent.mode == "plan"
        assert "mode plan" in str(app.query_one("#agent-status").render())
        await send(pilot, "rename greet")
        await wait_idle(pilot)
        refused = list(app.query(ToolCallBlock))[-1]
        assert refused.status == "refused" and "plan mode is read-only" in refused.content
        assert "def greet" in (agent_project.root / "src" / "app.py").read_text()


async def test_permission_prompt_once_always_reject(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)

    def write(name: str) -> Reply:
        return Reply(tool_calls=[ToolCall("write_file", json.dumps({"path": name, "content": "x\n"}))])

    openai_server.queue(write("a.txt"), Reply(text="a"), write("b.txt"), Reply(text="b"), write("b.txt"), Reply(text="b2"),
                        write("c.txt"), Reply(text="c"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        for request, key in (("write a", "o"), ("write b", "a"), ("write b again", None), ("write c", "r")):
            asked = len(app.query(PermissionPrompt))
            await send(pilot, request)
            if key is not None:
                await wait_until(pilot, lambda: len(app.query(PermissionPrompt)) == asked + 1, what="a permission prompt")
                prompt = list(app.query(PermissionPrompt))[-1]
                assert "+x" in prompt.preview
                await wait_until(pilot, lambda: app.focused is prompt, what="the prompt to take focus")
                await pilot.press(key)
            await wait_idle(pilot)
        assert [p.answer for p in app.query(PermissionPrompt)] == ["once", "always", "reject"]
        assert [b.status for b in app.query(ToolCallBlock)] == ["ok", "ok", "ok", "denied"]
        assert not (agent_project.root / "c.txt").exists()
        rules = tomllib.loads((agent_project.root / ".mimo" / "config.toml").read_text())["permissions"]["rules"]
        assert rules == [{"tool": "write_file", "pattern": "b.txt", "action": "allow"}]


async def test_escape_cancels_and_resume_restores_the_transcript(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="short answer"), Reply(text="word " * 400, chunk_size=5, chunk_delay=0.01))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "first")
        await wait_idle(pilot)
        await send(pilot, "talk a lot")
        await wait_until(pilot, lambda: "word word" in assistant_text(app), what="streaming to begin")
        await pilot.press("escape")
        await wait_idle(pilot)
        assert list(app.query(AssistantMessage))[-1].has_class("interrupted")
        session_id = pane.agent.session_id
    resumed = make_chat_app(resume=True)
    async with resumed.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await wait_until(pilot, lambda: len(resumed.query(UserMessage)) == 2, what="the transcript")
        assert pane.agent.session_id == session_id
        assert [u.text for u in resumed.query(UserMessage)] == ["first", "talk a lot"]
        blocks = list(resumed.query(AssistantMessage))
        assert blocks[0].source == "short answer" and blocks[-1].has_class("interrupted")


async def test_offline_default_answers_hello_labelled_offline(agent_project, make_chat_app) -> None:
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        assert pane.agent.spec.offline
        await send(pilot, "hello there")
        await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), timeout=30, what="the demo's permission ask")
        await wait_until(pilot, lambda: isinstance(app.focused, PermissionPrompt), what="the prompt to take focus")
        await pilot.press("r")
        await wait_idle(pilot)
        text = assistant_text(app)
        assert "offline demo model" in text and "Summary of the tour" in text
        assert "offline/agent (offline)" in str(app.query_one("#agent-status").render())
        await send(pilot, "/task write the docs")
        await pilot.press("f3")
        await wait_until(pilot, lambda: bool(app.query("#task-tree")), what="the tasks pane")
        tree = await_tree = app.query_one("#task-tree")
        await wait_until(pilot, lambda: len(await_tree.root.children) == 2, what="the task tree")
        labels = [str(node.label) for node in tree.root.children]
        assert labels[0].startswith("● T1 Get to know this project") and labels[1].startswith("○ T2 write the docs")


async def test_session_picker_and_new_session(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="answer one"), Reply(text="answer two"))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await send(pilot, "question one")
        await wait_idle(pilot)
        first = pane.agent.session_id
        await send(pilot, "/new")
        await wait_until(pilot, lambda: pane.agent.session_id != first, what="a new session")
        assert not app.query(UserMessage)
        await send(pilot, "question two")
        await wait_idle(pilot)
        # a subagent's child session is not one a person resumes: the picker leaves it out
        pane.services.sessions.create("openai/test", "subagent", title=f"subagent a1 of {first} on T1: x")
        await send(pilot, "/sessions")
        await wait_until(pilot, lambda: bool(app.screen.query("#session-list")), what="the session picker")
        options = app.screen.query_one("#session-list")
        assert options.option_count == 2
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: pane.agent.session_id == first, what="the older session to resume")
        await wait_until(pilot, lambda: [u.text for u in app.query(UserMessage)] == ["question one"], what="its transcript")


async def test_scroll_stays_where_the_user_put_it(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    long_text = "".join(f"Paragraph {n} of a long answer.\n\n" for n in range(120))
    openai_server.queue(Reply(text=long_text, chunk_size=40, chunk_delay=0.01))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_agent(pilot)
        conversation = app.query_one("#conversation")
        await send(pilot, "talk")
        await wait_until(pilot, lambda: "Paragraph 40" in assistant_text(app), what="a screenful of text")
        assert conversation.scroll_y == conversation.max_scroll_y > 0  # anchored while nobody scrolls
        conversation.scroll_to(y=0, animate=False)
        await wait_idle(pilot)
        assert conversation.scroll_y == 0 and conversation.max_scroll_y > 50


async def test_a_new_session_mid_stream_shows_nothing_of_the_old_turn(agent_project, openai_server, make_chat_app) -> None:
    use_server(agent_project, openai_server)
    openai_server.queue(Reply(text="word " * 400, chunk_size=5, chunk_delay=0.01))
    app = make_chat_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        old_session = pane.agent.session_id
        await send(pilot, "talk a lot")
        await wait_until(pilot, lambda: "word word" in assistant_text(app), what="streaming to begin")
        await send(pilot, "/new")
        await wait_until(pilot, lambda: pane.agent.session_id != old_session, what="the new session")
        await pilot.pause(0.6)  # the old turn's stream would have gone on delivering words by now
        assert "word" not in assistant_text(app) and not app.query(UserMessage)


async def test_a_long_session_resumes_with_its_tail(agent_project, make_chat_app) -> None:
    from mimo_tui.agent.setup import AgentServices
    from mimo_tui.project import Project
    from mimo_tui.ui.chat_pane import RESUME_SHOWN_BLOCKS

    services = AgentServices.open(Project.open(agent_project.root))
    session = services.sessions.create("offline/agent")
    for turn in range(1, 151):
        services.sessions.add_message(session.id, turn, "user", f"question {turn}")
        services.sessions.add_message(session.id, turn, "assistant", f"answer {turn}")
    services.close()
    app = make_chat_app(resume=True)
    async with app.run_test(size=SIZE) as pilot:
        pane = await wait_for_agent(pilot)
        await wait_until(pilot, lambda: pane.agent.session_id == session.id and app.query(UserMessage), what="the transcript")
        users = [u.text for u in app.query(UserMessage)]
        assert len(users) == RESUME_SHOWN_BLOCKS // 2 and users[-1] == "question 150"
        assert "100 earlier blocks not shown" in str(pane.conversation.children[0].render())
        assert len(pane.agent.transcript) == 300  # the model still gets the whole conversation
