"""A skill's drafted dataset reviewed item by item: each item "pending review" is shown with its input, the answer
the user accepted and the suggested grader; t/v/s approve it into train/val/test, d drops it, e edits it first, n
leaves it pending. Nothing reaches a split file without that approval. Once nothing is pending, T trains the skill
through the trainer's start form (dollar estimate, hard cap), and the run's result is staged, never adopted."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static, TextArea

from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.maintenance.distill.dataset_draft import DraftItem
    from mimo_tui.services import Services


class DatasetReviewScreen(ShowsWorkerFailures, ModalScreen[None]):
    """One pending item at a time; every decision is one commit by distill."""

    BINDINGS = [
        Binding("t", "decide('train')", "Approve into train", id="dataset.train"),
        Binding("v", "decide('val')", "Approve into val", id="dataset.val"),
        Binding("s", "decide('test')", "Approve into test", id="dataset.test"),
        Binding("d", "decide('drop')", "Drop", id="dataset.drop"),
        Binding("e", "edit", "Edit input and answer", id="dataset.edit"),
        Binding("n", "next", "Leave pending, next", id="dataset.next"),
        Binding("T", "train", "Train (staged)", id="dataset.train_run"),
        Binding("ctrl+s", "keep_edit", "Keep the edit", id="dataset.keep_edit", priority=True),
        Binding("escape", "close", "Close", id="dataset.close"),
    ]
    DEFAULT_CSS = """
    DatasetReviewScreen { align: center middle; }
    DatasetReviewScreen #dataset-box { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    DatasetReviewScreen #dataset-status { color: $text-muted; height: auto; }
    DatasetReviewScreen #dataset-item-box { height: 1fr; }
    DatasetReviewScreen #dataset-editor { height: 1fr; display: none; }
    DatasetReviewScreen #dataset-editor TextArea { height: 1fr; }
    DatasetReviewScreen.editing #dataset-editor { display: block; }
    DatasetReviewScreen.editing #dataset-item-box { display: none; }
    """

    def __init__(self, services: Services, skill: str | None = None) -> None:
        super().__init__()
        self.services = services
        self.skill = skill
        self.pending: list[DraftItem] | None = None
        self.position = 0
        self.decided: list[tuple[str, str]] = []
        self.busy = False
        self.edited: set[str] = set()

    def compose(self) -> ComposeResult:
        with Vertical(id="dataset-box"):
            yield Static("[b]Dataset review[/b] · reading the draft…", id="dataset-status")
            with VerticalScroll(id="dataset-item-box"):
                yield Static("", id="dataset-item")
            with Vertical(id="dataset-editor"):
                yield Static("input (ctrl+s keeps the edit, esc cancels it)")
                yield TextArea(id="dataset-edit-input")
                yield Static("accepted answer")
                yield TextArea(id="dataset-edit-expected")

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exit_on_error=False, name="dataset review")
    def _load(self) -> None:
        from mimo_tui.services.maintenance import dataset_pending, dataset_skills

        skill = self.skill
        if skill is None:
            drafts = dataset_skills(self.services)
            skill = drafts[0][0] if drafts else None
        deliver(self, self._show, skill, dataset_pending(self.services, skill) if skill else [])

    def _show(self, skill: str | None, pending: list[DraftItem]) -> None:
        self.skill, self.pending, self.position = skill, pending, 0
        self._render_item()

    @property
    def current(self) -> DraftItem | None:
        if not self.pending:
            return None
        return self.pending[self.position % len(self.pending)]

    def _render_item(self) -> None:
        status = self.query_one("#dataset-status", Static)
        body = self.query_one("#dataset-item", Static)
        if self.skill is None:
            status.update("[b]Dataset review[/b] · no skill has a drafted dataset: "
                          "`mimo distill --draft-dataset SKILL` drafts one · esc closes")
            body.update("")
            return
        item = self.current
        if item is None:
            status.update(f"[b]Dataset review[/b] · {self.skill}: nothing pending review · "
                          "T trains it (estimate and cap first; the result is staged) · esc closes")
            body.update(Text("\n".join(f"{item_id}: {what}" for item_id, what in self.decided)))
            return
        assert self.pending is not None
        status.update(f"[b]Dataset review[/b] · {self.skill}: item {self.position % len(self.pending) + 1} of "
                      f"{len(self.pending)} pending · t/v/s approve into train/val/test · d drops · e edits · "
                      "n next · esc closes")
        grader = item.grader.get("type", "?")
        detail = item.grader.get("reference") or item.grader.get("rubric") or ""
        body.update(Text.assemble(
            (f"{item.id}", "bold"), f" (from session {item.session_id})\n\n",
            ("input\n", "bold"), item.input, "\n\n", ("accepted answer\n", "bold"), item.expected, "\n\n",
            ("suggested grader\n", "bold"), f"{grader}: {detail}"))

    def action_next(self) -> None:
        if self.pending:
            self.position = (self.position + 1) % len(self.pending)
            self._render_item()

    def action_edit(self) -> None:
        item = self.current
        if item is None or self.has_class("editing"):
            return
        self.query_one("#dataset-edit-input", TextArea).text = item.input
        self.query_one("#dataset-edit-expected", TextArea).text = item.expected
        self.add_class("editing")
        self.query_one("#dataset-edit-input", TextArea).focus()

    def action_keep_edit(self) -> None:
        """Keep the edit in the item shown; it is written only when the item is approved."""
        item = self.current
        if item is None or not self.has_class("editing") or self.pending is None:
            return
        from mimo_tui.maintenance.distill.dataset_draft import DraftItem, grader_for

        text = self.query_one("#dataset-edit-input", TextArea).text.strip()
        answer = self.query_one("#dataset-edit-expected", TextArea).text.strip()
        if not text or not answer:
            self.notify("an item needs both an input and an answer", severity="warning")
            return
        grader = item.grader if answer == item.expected else grader_for(answer)
        self.pending[self.position % len(self.pending)] = DraftItem(item.id, text, answer, grader, item.session_id,
                                                                    item.status)
        self.edited.add(item.id)
        self._leave_editor()
        self._render_item()

    def _leave_editor(self) -> None:
        """Hide the editor and take the keyboard back from it, so t/v/s/d are decisions again, not typing."""
        self.remove_class("editing")
        self.query_one("#dataset-item-box").focus()

    def action_close(self) -> None:
        if self.has_class("editing"):
            self._leave_editor()
            return
        self.dismiss(None)

    def action_decide(self, decision: str) -> None:
        item = self.current
        if item is None or self.busy or self.has_class("editing") or self.skill is None:
            return
        self.busy = True
        edited = item.id in self.edited
        self._decide(self.skill, item, decision, edited)

    @work(thread=True, exit_on_error=False, name="dataset decision")
    def _decide(self, skill: str, item: DraftItem, decision: str, edited: bool) -> None:
        from mimo_tui.services import StoreError
        from mimo_tui.services.maintenance import dataset_decide

        try:
            dataset_decide(self.services, skill, item.id, decision, input_text=item.input if edited else None,
                           expected=item.expected if edited else None)
        except StoreError as exc:
            deliver(self, self._refused, str(exc))
            return
        deliver(self, self._decided, item, decision)

    def _refused(self, message: str) -> None:
        self.busy = False
        self.notify(message, title="Dataset review", severity="error", timeout=10)

    def _decided(self, item: DraftItem, decision: str) -> None:
        self.busy = False
        assert self.pending is not None
        self.pending = [i for i in self.pending if i.id != item.id]
        self.decided.append((item.id, "dropped" if decision == "drop" else f"approved into {decision}"))
        if self.pending:
            self.position %= len(self.pending)
        self._render_item()

    def action_train(self) -> None:
        if self.skill is None or self.pending is None:
            return
        self._check_then_train(self.skill)

    @work(thread=True, exit_on_error=False, name="dataset training check")
    def _check_then_train(self, skill: str) -> None:
        from mimo_tui.services.maintenance import dataset_training_problem

        problem = dataset_training_problem(self.services, skill)
        deliver(self, self._train, skill, problem)

    def _train(self, skill: str, problem: str | None) -> None:
        if problem:
            self.notify(problem, title="Train", severity="warning", timeout=10)
            return
        app = self.app
        self.dismiss(None)

        async def start() -> None:
            await app.action_show_pane("trainer")
            pane = app.query_one("#trainer-pane")
            # The pane's catalogue may predate the eval/ folder the review just created: read it again first
            # (a worker of its own that a concurrent reload may replace, hence the wait on what it shows).
            pane.load_catalogue()
            for _ in range(100):
                if any(entry.name == skill and entry.eval_dir for entry in pane.entries):
                    break
                await asyncio.sleep(0.05)
            pane.start_training(skill)

        app.call_later(start)
