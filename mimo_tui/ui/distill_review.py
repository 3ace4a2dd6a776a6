"""/distill in the workbench: proposals mined on a thread, then a review screen to approve or skip each one;
approved ones are committed (authored `distill`). Creating nothing is a valid result."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.maintenance.distill import DistillPlan, Proposal
    from mimo_tui.services import Services


class DistillReviewScreen(ShowsWorkerFailures, ModalScreen[None]):
    """Space approves or skips the highlighted proposal, `c` commits the approved ones, esc closes."""

    BINDINGS = [
        Binding("c", "commit", "Commit approved", id="distill.commit"),
        Binding("D", "datasets", "Review drafted datasets", id="distill.datasets"),
        Binding("escape", "dismiss", "Close", id="distill.close"),
    ]
    DEFAULT_CSS = """
    DistillReviewScreen { align: center middle; }
    DistillReviewScreen #distill-box { width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    DistillReviewScreen #distill-status { color: $text-muted; height: auto; }
    DistillReviewScreen #distill-items { width: 1fr; height: 1fr; }
    DistillReviewScreen #distill-preview-box { width: 1fr; height: 1fr; }
    """

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.plan: DistillPlan | None = None
        self.committed: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="distill-box"):
            yield Static("[b]Distill[/b] · reading session history…", id="distill-status")
            with Horizontal():
                yield SelectionList[int](id="distill-items")
                with VerticalScroll(id="distill-preview-box"):
                    yield Static("", id="distill-preview")

    def on_mount(self) -> None:
        self._plan()

    @work(thread=True, exit_on_error=False, name="distill")
    def _plan(self) -> None:
        from mimo_tui.services.maintenance import distill_plan

        deliver(self, self._show, distill_plan(self.services))

    def _show(self, plan: DistillPlan) -> None:
        self.plan = plan
        items = self.query_one("#distill-items", SelectionList)
        for n, proposal in enumerate(plan.proposals):
            items.add_option((Text(proposal.line()), n))
        status = self.query_one("#distill-status", Static)
        if not plan.proposals:
            status.update(f"[b]Distill[/b] · {plan.requests} request(s) read: nothing to distill "
                          "(no workflow repeated often enough that is not already covered) · esc to close")
            self.query_one("#distill-preview", Static).update(Text("\n".join(plan.skipped)))
            return
        status.update(f"[b]Distill[/b] · {len(plan.proposals)} proposal(s) · space approves or skips · "
                      "c commits the approved ones · D reviews drafted datasets · esc closes")
        items.focus()
        items.highlighted = 0
        self._preview(plan.proposals[0])

    def on_selection_list_selection_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        if self.plan is not None:
            self._preview(self.plan.proposals[event.selection.value])

    def _preview(self, proposal: Proposal) -> None:
        self.query_one("#distill-preview", Static).update(Text(f".mimo/{proposal.relpath}\n\n{proposal.text}"))

    def action_datasets(self) -> None:
        from mimo_tui.ui.dataset_review import DatasetReviewScreen

        self.app.push_screen(DatasetReviewScreen(self.services))

    def action_commit(self) -> None:
        if self.plan is None or self.committed:
            return
        chosen = [self.plan.proposals[n] for n in self.query_one("#distill-items", SelectionList).selected]
        if not chosen:
            self.notify("nothing approved: space approves the highlighted proposal", severity="warning", timeout=4)
            return
        self._commit(chosen)

    @work(thread=True, exit_on_error=False, name="distill commit")
    def _commit(self, chosen: list[Proposal]) -> None:
        from mimo_tui.services import StoreError
        from mimo_tui.services.maintenance import distill_adopt

        done: list[str] = []
        for proposal in chosen:
            try:
                distill_adopt(self.services, proposal)
                done.append(proposal.relpath)
            except StoreError as exc:
                deliver(self, self.notify, f"{proposal.relpath}: {exc}", severity="error", timeout=10)
        deliver(self, self._committed, done, len(self.plan.proposals) if self.plan else 0)

    def _committed(self, done: list[str], total: int) -> None:
        self.committed = done
        self.query_one("#distill-status", Static).update(
            f"[b]Distill[/b] · added {len(done)} of {total}: {', '.join('.mimo/' + d for d in done) or 'none'} · esc closes")
        self.notify(f"distill added {len(done)} file(s)", timeout=4)
