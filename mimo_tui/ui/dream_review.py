"""/dream in the workbench: the dream runs on a thread, then its review (consolidated, updated, deleted, skipped) and
its diff are shown, with one key to revert it (a new commit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.maintenance.dream import DreamReview
    from mimo_tui.services import Services


class DreamReviewScreen(ShowsWorkerFailures, ModalScreen[None]):
    """Dreams when shown; then the review, the diff, and `r` to revert the dream's commit."""

    BINDINGS = [
        Binding("r", "revert", "Revert dream", id="dream.revert"),
        Binding("escape", "dismiss", "Close", id="dream.close"),
    ]
    DEFAULT_CSS = """
    DreamReviewScreen { align: center middle; }
    DreamReviewScreen #dream-box { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    DreamReviewScreen #dream-status { color: $text-muted; height: auto; }
    DreamReviewScreen #dream-body { height: 1fr; }
    """

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.review: DreamReview | None = None
        self.reverted_as: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="dream-box"):
            yield Static("[b]Dream[/b] · consolidating memory…", id="dream-status")
            with VerticalScroll(id="dream-body"):
                yield Static("", id="dream-review")
                yield Static("", id="dream-diff")

    def on_mount(self) -> None:
        self._dream()

    @work(thread=True, exit_on_error=False, name="dream")
    def _dream(self) -> None:
        from mimo_tui.services import StoreError
        from mimo_tui.services.maintenance import dream_now

        try:
            review = dream_now(self.services)
        except StoreError as exc:
            deliver(self, self._failed, str(exc))
            return
        deliver(self, self._show, review)

    def _failed(self, why: str) -> None:
        self.query_one("#dream-status", Static).update(Text.assemble(("Dream", "bold"), f" · failed: {why} · esc to close"))

    def _show(self, review: DreamReview) -> None:
        self.review = review
        commit = review.commit
        keys = f"r reverts it ({commit.short}) · esc to close" if commit else "nothing committed · esc to close"
        self.query_one("#dream-status", Static).update(f"[b]Dream[/b] · {review.counts()} · {keys}")
        self.query_one("#dream-review", Static).update(Text(review.text()))  # "[unverified]" is text, not markup
        if review.diff:
            self.query_one("#dream-diff", Static).update(Syntax(review.diff, "diff", theme="ansi_dark", word_wrap=True))

    def action_revert(self) -> None:
        if self.review is None or self.review.commit is None or self.reverted_as:
            self.notify("no dream commit to revert here", severity="warning", timeout=4)
            return
        self._revert(self.review.commit.sha)

    @work(thread=True, exit_on_error=False, name="revert dream")
    def _revert(self, sha: str) -> None:
        from mimo_tui.services import StoreError

        try:
            info = self.services.memory.revert(sha)
        except StoreError as exc:
            deliver(self, self.notify, f"cannot revert the dream: {exc}", severity="error", timeout=10)
            return
        deliver(self, self._reverted, info)

    def _reverted(self, info: Any) -> None:
        self.reverted_as = info.short
        self.query_one("#dream-status", Static).update(
            f"[b]Dream[/b] · reverted as {info.short}: MEMORY.md is as it was before the dream · esc to close")
        self.notify(f"dream reverted ({info.short})", timeout=4)
