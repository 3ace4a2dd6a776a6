"""The permission prompt: what a tool wants to do (a diff for file edits) and once / always / reject."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from mimo_tui.ui.chat.messages import PermissionAnswered

MAX_PREVIEW_LINES = 60


class PermissionPrompt(Vertical, can_focus=True):
    """Asks the user about one tool call; answers with keys o / a / r or the buttons."""

    BINDINGS = [
        Binding("o", "answer('once')", "Allow once", id="permission.once"),
        Binding("a", "answer('always')", "Always allow", id="permission.always"),
        Binding("r", "answer('reject')", "Reject", id="permission.reject"),
    ]
    DEFAULT_CSS = """
    PermissionPrompt {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border: round $warning;
        background: $warning 8%;
    }
    PermissionPrompt:focus { border: round $accent; }
    PermissionPrompt .permission-preview { max-height: 24; overflow-y: auto; margin: 1 0; }
    PermissionPrompt Horizontal { height: auto; }
    PermissionPrompt Button { height: 1; border: none; margin-right: 2; min-width: 14; }
    """

    def __init__(self, tool: str, subject: str, preview: str, mcp_server: str | None = None, mcp_tool: str | None = None) -> None:
        super().__init__()
        self.tool = tool
        self.subject = subject
        self.preview = preview
        self.mcp_server = mcp_server
        self.mcp_tool = mcp_tool
        self.answer: str | None = None

    def compose(self) -> ComposeResult:
        if self.mcp_server is not None:
            yield Static(Text.assemble(
                ("Permission: ", "bold"), "MCP server ", (self.mcp_server, "bold"), " · tool ", (self.mcp_tool or "?", "bold"),
                (f"  ({self.tool})", "dim"), "\nwith these arguments:",
            ), classes="permission-title")
        else:
            yield Static(Text.assemble(("Permission: ", "bold"), f"{self.tool} wants to use ", (self.subject or "(no subject)", "bold")),
                         classes="permission-title")
        lines = self.preview.splitlines()
        shown = "\n".join(lines[:MAX_PREVIEW_LINES]) + (f"\n… {len(lines) - MAX_PREVIEW_LINES} more lines" if len(lines) > MAX_PREVIEW_LINES else "")
        lexer = "diff" if self.preview.startswith(("---", "diff")) else "bash" if self.tool == "bash" else "json"
        yield Static(Syntax(shown, lexer, theme="ansi_dark", word_wrap=True), classes="permission-preview")
        with Horizontal():
            yield Button("Once (o)", id="once", compact=True, variant="primary")
            yield Button("Always (a)", id="always", compact=True, variant="success")
            yield Button("Reject (r)", id="reject", compact=True, variant="error")

    def on_mount(self) -> None:
        self.focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id:
            self.action_answer(event.button.id)

    def action_answer(self, answer: str) -> None:
        if self.answer is not None:
            return
        self.answer = answer
        for button in self.query(Button):
            button.disabled = True
        self.border_subtitle = f"answered: {answer}"
        self.post_message(PermissionAnswered(answer))
