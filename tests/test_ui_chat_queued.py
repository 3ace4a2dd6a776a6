"""A request typed before the agent is ready is kept, shown as "starting…" and sent when it is (issue 21, item 3)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

from mimo_tui.services import Services
from mimo_tui.ui.chat.permission_prompt import PermissionPrompt
from mimo_tui.ui.chat.user_message import UserMessage
from mimo_tui.ui.chat_pane import ChatPane
from mimo_tui.ui.messages import ProjectOpened
from tests.fixtures.chat_app import send, wait_until

SIZE = (110, 36)


class ChatHost(App):
    """The chat pane alone: its project arrives only when the test says, as after a slow cold start."""

    def compose(self) -> ComposeResult:
        yield ChatPane(Services(), id="chat-pane")


def user_messages(app: App) -> list[str]:
    return [str(message.render()) for message in app.query(UserMessage)]


async def test_a_request_sent_before_the_agent_is_ready_is_sent_when_it_is(agent_project) -> None:
    from mimo_tui.project import Project

    app = ChatHost()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(ChatPane)
        await send(pilot, "hello there")
        assert pane.agent is None
        assert app.query_one("#prompt").value == ""
        assert user_messages(app) == ["hello there"]
        assert "starting…" in str(app.query_one("#chat-starting", Static).render())
        pane.post_message(ProjectOpened(Project.open(agent_project.root)))
        # The offline demo model answers "hello" with a permission ask: seeing it proves the text reached it.
        await wait_until(pilot, lambda: bool(app.query(PermissionPrompt)), timeout=30, what="the queued request's turn")
        assert not app.query("#chat-starting")
        assert user_messages(app) == ["hello there"]
        assert [message.content for message in pane.agent.transcript if message.role == "user"] == ["hello there"]
        pane.action_cancel_turn()
        await wait_until(pilot, lambda: not pane.agent.is_running, what="the cancelled turn to end")
        pane.close_services()
