"""The scrolling conversation, anchored to the bottom until the user scrolls away."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textual import events
from textual.geometry import Size
from textual.containers import VerticalScroll
from textual.widgets import Static

from mimo_tui.ui.chat.user_message import UserMessage

if TYPE_CHECKING:
    from mimo_tui.agent.loop import AgentSession
    from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

# A resumed long session shows its tail; every block is a widget, and mounting thousands stalls the UI.
RESUME_SHOWN_BLOCKS = 200


class Conversation(VerticalScroll):
    """Holds the message blocks of one session; clicking a block leaves the keyboard with the prompt."""

    DEFAULT_CSS = """
    Conversation {
        height: 1fr;
        layout: stream;
        padding: 0 1 1 1;
        scrollbar-size-vertical: 1;
    }
    """

    def on_mount(self) -> None:
        self.anchor()

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        # Following the stream at the bottom, the taller content is already scrolled to while arranging and the
        # scrollbar is updated here: no second layout of the screen is needed for it (see QuietResize).
        following = self.scroll_y >= self.max_scroll_y
        return super()._size_updated(size, virtual_size, container_size, layout=layout and not following)

    def on_mouse_up(self, event: events.MouseUp) -> None:
        """A click on a block (a tool call's title, Show all) leaves the keyboard with the prompt."""
        from mimo_tui.ui.chat.permission_prompt import PermissionPrompt

        # A permission prompt asks the user a question: it keeps the keyboard until answered.
        if event.widget is not None and any(isinstance(node, PermissionPrompt) for node in event.widget.ancestors_with_self):
            return
        prompt = self.screen.query("#prompt")
        if prompt:
            # After the click is handled, so a collapsible title still toggles.
            self.call_after_refresh(prompt.first().focus)

    async def show_transcript(self, agent: AgentSession) -> None:
        """Replace the blocks with the session's stored transcript (its tail, when it is long)."""
        from mimo_tui.ui.chat.assistant_message import AssistantMessage
        from mimo_tui.ui.chat.context_divider import ContextDivider
        from mimo_tui.ui.chat.tool_call_block import ToolCallBlock

        await self.remove_children()
        widgets: list[Any] = []
        blocks: dict[str, ToolCallBlock] = {}
        rebuilt = agent.rebuilt_on_open
        for message in agent.transcript:
            if rebuilt is not None and message.id >= rebuilt.rebuilt_from:
                widgets.append(ContextDivider.resumed(rebuilt.from_checkpoint, rebuilt.tokens, rebuilt.injected))
                rebuilt = None
            if message.role == "user":
                widgets.append(UserMessage(message.content))
            elif message.role == "assistant":
                if message.content:
                    block = AssistantMessage(message.content)
                    if message.status != "complete":
                        block.add_class("interrupted")
                    widgets.append(block)
                for call in message.tool_calls:
                    function = call.get("function", {})
                    raw = function.get("arguments", "")
                    try:
                        arguments = json.loads(raw) if raw else {}
                    except json.JSONDecodeError:
                        arguments = {}
                    tool_block = ToolCallBlock(call.get("id", ""), function.get("name", ""), arguments if isinstance(arguments, dict) else {}, raw)
                    blocks[tool_block.call_id] = tool_block
                    widgets.append(tool_block)
            elif message.role == "tool" and message.tool_call_id in blocks:
                blocks[message.tool_call_id].finish(message.content, "error" if message.is_error else "ok", message.duration_s or 0.0)
        if not widgets:
            widgets.append(Static(f"New session on {agent.spec.label}. Type a request, or /help.", id="chat-welcome"))
        if len(widgets) > RESUME_SHOWN_BLOCKS:
            hidden = len(widgets) - RESUME_SHOWN_BLOCKS
            widgets = [Static(f"{hidden} earlier blocks not shown here: `mimo sessions --show {agent.session_id}` "
                              "prints the whole transcript.", classes="empty-state"), *widgets[-RESUME_SHOWN_BLOCKS:]]
        await self.mount_all(widgets)
        self.scroll_end(animate=False)
