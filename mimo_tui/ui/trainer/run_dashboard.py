"""The dashboard of one run: header, problems, score chart, test report, spend, steps, edits, credit, candidates, diff."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from mimo_tui.ui.trainer.credit_panel import CreditPanel
from mimo_tui.ui.trainer.edits_panel import EditsPanel
from mimo_tui.ui.trainer.lineage_table import LineageTable
from mimo_tui.ui.trainer.run_header import RunHeader
from mimo_tui.ui.trainer.run_problems import RunProblems
from mimo_tui.ui.trainer.run_view import RunView
from mimo_tui.ui.trainer.score_chart import ScoreChart
from mimo_tui.ui.trainer.skill_diff import SkillDiff
from mimo_tui.ui.trainer.spend_panel import SpendPanel
from mimo_tui.ui.trainer.step_table import StepTable
from mimo_tui.ui.trainer.held_out_report import HeldOutReport


class RunDashboard(VerticalScroll):
    """Everything about the selected run; redrawn from a RunView on the pane's timer."""

    def compose(self) -> ComposeResult:
        yield RunHeader("", id="trainer-header")
        yield RunProblems("", id="trainer-problems")
        yield ScoreChart(id="trainer-chart")
        yield HeldOutReport("", id="trainer-test")
        yield SpendPanel("", id="trainer-spend")
        yield Static("Steps", classes="trainer-section")
        yield StepTable(id="trainer-steps")
        yield EditsPanel("", id="trainer-edits")
        yield Static("Skill: start → best", classes="trainer-section")
        yield SkillDiff(id="trainer-diff")
        yield CreditPanel("", id="trainer-credit")
        yield Static("Candidates   (Enter: diff against its parent · m mark · d diff marked → this)",
                     classes="trainer-section")
        yield LineageTable(id="trainer-lineage")

    def show(self, view: RunView, status: str, decision: str = "") -> None:
        self.query_one(RunHeader).show(view, status, decision)
        self.query_one(RunProblems).show(view.problems, view.errors)
        self.query_one(ScoreChart).show(view)
        self.query_one(HeldOutReport).show(view.test)
        self.query_one(SpendPanel).show(view.budget)
        self.query_one(StepTable).show([view.steps[n] for n in sorted(view.steps)])
        self.query_one(EditsPanel).show(view.last_accepted, view.last_rejected, view.last_no_edit)
        self.query_one(CreditPanel).show(view.credit_by_step, view.credit_pending)
        self.query_one(LineageTable).show(view.lineage)
        self.query_one(SkillDiff).show(view.diff, view.best_version)
        self.refresh(layout=True)
