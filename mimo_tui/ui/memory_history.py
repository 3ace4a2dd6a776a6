"""The history of one memory file: a list of commits with revert from the keyboard."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from mimo_tui.memory.service import CommitInfo


class MemoryHistory(OptionList):
    """Commits touching the selected file, newest first."""

    BINDINGS = [Binding("r", "revert", "Revert commit", id="memory.revert")]

    class RevertRequested(Message):
        def __init__(self, sha: str) -> None:
            super().__init__()
            self.sha = sha

    def show_commits(self, commits: list[CommitInfo]) -> None:
        highlighted = self.highlighted
        self.clear_options()
        self.add_options(
            Option(
                f"{c.short} {time.strftime('%m-%d %H:%M', time.localtime(c.timestamp))} "
                f"[b]{c.author}[/b]\n  {c.message}",
                id=c.sha,
            )
            for c in commits
        )
        if commits:
            self.highlighted = min(highlighted or 0, len(commits) - 1)

    @property
    def selected_sha(self) -> str | None:
        if self.highlighted is None:
            return None
        return self.get_option_at_index(self.highlighted).id

    def action_revert(self) -> None:
        if self.selected_sha:
            self.post_message(self.RevertRequested(self.selected_sha))
