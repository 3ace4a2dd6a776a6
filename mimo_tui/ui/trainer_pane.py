"""The trainer pane: training runs, a live dashboard of the selected run, and training started from the keyboard."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, OptionList, Static
from textual.worker import get_current_worker

from mimo_tui.services import Services
from mimo_tui.skillopt.run_reader import TailBatch, find_new_run, known_runs
from mimo_tui.skillopt.catalogue import SkillEntry, find_skills
from mimo_tui.ui.messages import ProjectOpened
from mimo_tui.ui.trainer.lineage_table import LineageTable
from mimo_tui.ui.trainer.run_dashboard import RunDashboard
from mimo_tui.ui.trainer.run_list import RunList, RunRow
from mimo_tui.ui.trainer.run_view import RunView
from mimo_tui.ui.trainer.skill_catalogue import SkillCatalogue
from mimo_tui.skillopt.training_process import TrainingProcess
from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

if TYPE_CHECKING:
    from mimo_tui.project import Project

TAIL_INTERVAL_S = 0.3
REDRAW_INTERVAL_S = 0.25
RUNS_INTERVAL_S = 2.0
CATALOGUE_INTERVAL_S = 0.8
EMPTY_TEXT = "No training runs yet: `mimo skill train <skill>`"


class TrainerPane(ShowsWorkerFailures, Horizontal):
    """Training runs: epochs, steps, scores and edits, live while a run writes its events."""

    DEFAULT_CLASSES = "project-pane"
    BINDINGS = [
        Binding("t", "train", "Train skill", id="trainer.train"),
        Binding("x", "stop", "Stop run", id="trainer.stop"),
        Binding("r", "resume", "Resume run", id="trainer.resume"),
        Binding("e", "steer('edited')", "Edit candidate", id="trainer.edit_candidate"),
        Binding("f", "steer('feedback')", "Feedback", id="trainer.feedback"),
        Binding("a", "adopt", "Adopt", id="trainer.adopt"),
        Binding("D", "discard", "Discard", id="trainer.discard"),
    ]

    def __init__(self, services: Services, id: str | None = None) -> None:
        super().__init__(id=id)
        self.services = services
        self.rows: list[RunRow] = []
        self.entries: list[SkillEntry] = []
        self.processes: list[TrainingProcess] = []
        self.view: RunView | None = None
        self._dirty = False
        self._pending_select: str | None = None
        self._spend_told: dict[str, set[float]] = {}  # per run: the spend marks (50 %, 80 %) already toasted

    def compose(self) -> ComposeResult:
        with Vertical(id="trainer-left"):
            yield Static("Runs", classes="side-title")
            yield RunList(id="trainer-runs")
            yield Static("Skills  (t: train)", classes="side-title")
            yield SkillCatalogue(id="trainer-skills")
        with Vertical(id="trainer-main"):
            yield Static(EMPTY_TEXT, id="trainer-empty", classes="empty-state")
            yield RunDashboard(id="trainer-dashboard")

    def on_mount(self) -> None:
        self.query_one(RunDashboard).display = False
        self.set_interval(REDRAW_INTERVAL_S, self._redraw)
        self.set_interval(RUNS_INTERVAL_S, self._refresh_if_open)
        # Skills added, removed or overridden on disk show within a second.
        self.set_interval(CATALOGUE_INTERVAL_S, lambda: self.load_catalogue() if self.project is not None else None)

    def on_unmount(self) -> None:
        for process in self.processes:
            process.stop()

    def _ui(self, callback, *args, **kwargs) -> None:
        deliver(self, callback, *args, **kwargs)

    @property
    def project(self) -> Project | None:
        return self.services.project

    @property
    def runs_dir(self) -> Path:
        return self.services.runs_dir

    # -- runs and skills ------------------------------------------------------------------------
    def on_project_opened(self, message: ProjectOpened) -> None:
        self.load_catalogue()
        self.refresh_runs()

    def _refresh_if_open(self) -> None:
        if self.project is not None:
            self.refresh_runs()

    @work(thread=True, exit_on_error=False, exclusive=True, group="trainer-catalogue")
    def load_catalogue(self) -> None:
        assert self.project is not None
        entries = find_skills(self.project.root, self.project.workspace.mimo_dir)
        self._ui(self._show_catalogue, entries)

    def _show_catalogue(self, entries: list[SkillEntry]) -> None:
        catalogue = self.query_one(SkillCatalogue)
        catalogue.show_entries(entries)
        if catalogue.entries != self.entries:
            self.entries = catalogue.entries  # one per name: the skill that wins
            self._show_empty_state()

    @work(thread=True, exit_on_error=False, exclusive=True, group="trainer-runs")
    def refresh_runs(self) -> None:
        live = {p.run_id for p in self.processes if p.run_id and p.alive}
        self._ui(self._show_runs, self.services.run_statuses(live))

    def _show_runs(self, rows: list[RunRow]) -> None:
        known = {r.run_id for r in self.rows}
        fresh = [r for r in rows if r.run_id not in known]
        if known and fresh and self._pending_select is None:
            self._pending_select = fresh[0].run_id  # a run just started (here or from the shell): follow it
            self.notify(f"following the new run {fresh[0].run_id} ({fresh[0].skill})", title="Trainer", timeout=4)
            self._follow(fresh[0].run_id)
        self.rows = rows
        run_list = self.query_one(RunList)
        run_list.show_rows(rows)
        if self._pending_select in {r.run_id for r in rows}:
            run_list.select_run(self._pending_select)
            self._pending_select = None
        self._show_empty_state()
        if rows and self.view is None and run_list.selected_run:
            self._follow(run_list.selected_run)
        self._dirty = True

    def _show_empty_state(self) -> None:
        empty = self.query_one("#trainer-empty", Static)
        has_runs = bool(self.rows)
        empty.display = not has_runs
        self.query_one(RunDashboard).display = has_runs
        if has_runs:
            return
        text = Text(EMPTY_TEXT, style="bold")
        trainable = [e for e in self.entries if e.eval_dir]
        if self.entries:
            text.append(f"\n\nSkills found ({len(self.entries)}):")
            for entry in self.entries:
                text.append(f"\n  {entry.name}", style="bold" if entry.eval_dir else "dim")
                text.append(f"  {entry.origin}" + ("" if entry.eval_dir else ", no eval set"), style="dim")
        else:
            text.append("\n\nNo skills found: add one under .mimo/skills/<name>/SKILL.md with an eval/ dataset.")
        if trainable:
            text.append("\n\nHighlight a skill in the list on the left and press t to train it "
                        "(offline demo models unless [trainer] in config names others).")
        empty.update(text)

    @on(OptionList.OptionHighlighted, "#trainer-runs")
    def _run_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and (self.view is None or self.view.run_id != event.option.id):
            self._follow(event.option.id)

    def _follow(self, run_id: str) -> None:
        self.view = RunView(run_id)
        self._dirty = True
        self.tail_run(run_id)

    # -- live tail ------------------------------------------------------------------------------
    @work(thread=True, exit_on_error=False, exclusive=True, group="trainer-tail")
    def tail_run(self, run_id: str) -> None:
        """Read the run's new events every ~0.3 s and hand them to the UI in batches."""
        worker = get_current_worker()
        follower = self.services.follow_run(run_id)
        while not worker.is_cancelled:
            update = follower.poll()
            if update is not None:
                self._ui(self._apply_batch, run_id, update.batch, update.summary, update.diff)
            time.sleep(TAIL_INTERVAL_S)

    def _apply_batch(self, run_id: str, batch: TailBatch, summary: dict[str, Any] | None, diff: str | None) -> None:
        if self.view is None or self.view.run_id != run_id:
            return
        if batch.reset:
            self.view = RunView(run_id)
        view = self.view
        for item in batch.events:
            view.apply(item.line, item.event)
        view.problems.extend(batch.problems)
        if summary is not None:
            view.use_summary(summary)
        if diff is not None:
            view.diff = diff
        self._dirty = True

    def _redraw(self) -> None:
        """Redraw on a timer, not per event, so a fast run cannot flood the screen."""
        if not self._dirty or self.view is None or not self.rows:
            return
        if self.app.screen is not self.screen:
            return  # covered (item table, diff, editor): redraw once it is back on top, keys there come first
        self._dirty = False
        view = self.view
        row = next((r for r in self.rows if r.run_id == view.run_id), None)
        status = view.status if view.finished else row.status if row else "running"
        if row and row.note and not view.finished and row.note not in view.problems:
            view.problems.append(row.note)
        if view.events_seen == 0 and row is not None:
            view.skill = row.skill
        self.query_one(RunDashboard).show(view, status, row.decision if row else "")
        self._tell_spend(view)

    def _tell_spend(self, view: RunView) -> None:
        """A toast once per run and mark (50 %, then 80 %) of a cap; the spend line keeps saying it."""
        from mimo_tui.ui.trainer.spend_panel import spend_mark, spend_warning

        found = spend_mark(view.budget)
        told = self._spend_told.setdefault(view.run_id, set())
        if found is None or found[0] in told:
            return
        told.update(m for m in (0.5, 0.8) if m <= found[0])
        self.notify(f"{view.run_id}: {spend_warning(view.budget)}", title="Trainer spend",
                    severity="error" if found[0] >= 0.8 else "warning", timeout=8)

    # -- steering by hand -----------------------------------------------------------------------
    def action_steer(self, kind: str) -> None:
        """Open the incumbent skill to edit (kind "edited") or a feedback box, for the followed run."""
        view = self.view
        if view is None:
            self.notify("no run selected", severity="warning")
            return
        self._open_candidate_editor(view.run_id, kind, view.incumbent_version)

    @work(thread=True, exit_on_error=False, group="trainer-steer")
    def _open_candidate_editor(self, run_id: str, kind: str, version: int) -> None:
        text = ""
        if kind == "edited":
            try:
                text = self.services.skill_version_text(run_id, version)
            except OSError as exc:
                self._ui(self.notify, f"cannot read v{version:04d} of {run_id}: {exc}", severity="error")
                return
        self._ui(self._show_candidate_editor, run_id, kind, text, f"v{version:04d}, the incumbent")

    def _show_candidate_editor(self, run_id: str, kind: str, text: str, base: str) -> None:
        from mimo_tui.ui.trainer.candidate_editor import CandidateEditor, GivenCandidate

        def given(candidate: GivenCandidate | None) -> None:
            if candidate is not None:
                self._give_candidate(run_id, candidate.kind, candidate.text)

        self.app.push_screen(CandidateEditor(run_id, kind, text, base), given)

    @work(thread=True, exit_on_error=False, group="trainer-steer")
    def _give_candidate(self, run_id: str, kind: str, text: str) -> None:
        from mimo_tui.skillopt.steering import SteeringError

        try:
            ident = self.services.give_candidate(run_id, kind, text)
        except (SteeringError, OSError) as exc:
            self._ui(self.notify, f"not given to {run_id}: {exc}", title="Trainer", severity="error")
            return
        row = next((r for r in self.rows if r.run_id == run_id), None)
        status = row.status if row is not None else "running"
        when = {"running": "it is taken at the next step boundary",
                "finished": "the run has finished: judging it now against the run's best version (same gate)"
                }.get(status, f"the run is {status}: it is taken at the next step boundary once the run resumes (r)")
        self._ui(self.notify, f"{'edited skill' if kind == 'edited' else 'feedback'} given to {run_id} ({ident}); {when}",
                 title="Trainer")
        if status == "finished" and row is not None:
            # A finished run reopened judges what waits in its inbox, in its own process (`--resume`), off this loop.
            self._ui(self.start_training, row.skill, run_id)

    # -- adopt / discard --------------------------------------------------------------------------
    def action_adopt(self, which: str = "") -> None:
        """Adopt the run's best version (or `which`: final, or the version highlighted in the candidates table when it
        has focus) into the live skill, after showing what it would change."""
        view = self.view
        if view is None:
            self.notify("no run selected", severity="warning")
            return
        if not view.finished:
            self.notify(f"{view.run_id} is still running: adopt once it has ended (x stops it)", severity="warning")
            return
        version: str | int = which or "best"
        lineage = self.query_one(LineageTable)
        if not which and lineage.has_focus and lineage.highlighted is not None and lineage.highlighted.version is not None:
            version = lineage.highlighted.version
        self._ask_adopt(view.run_id, version)

    @work(thread=True, exit_on_error=False, group="trainer-adopt")
    def _ask_adopt(self, run_id: str, version: str | int) -> None:
        from mimo_tui.services import StoreError
        from mimo_tui.skillopt.staging import StagingError

        try:
            self.services.check_adoptable(run_id)
            if isinstance(version, int):
                number, label = version, f"v{version:04d}"
            else:
                number, label = int(self.services.run_proposal(run_id)[version]["version"]), version
            diff = self.services.run_diff_live(run_id, number)
            edits = self.services.run_version_edits(run_id, number)
        except (StagingError, StoreError, OSError, KeyError, TypeError, ValueError) as exc:
            self._ui(self.notify, f"cannot adopt from {run_id}: {exc}", title="Trainer", severity="error", timeout=10)
            return
        question = (f"Adopt v{number:04d} ({label}) of {run_id} into the live skill? One commit by skillopt; "
                    "a revert undoes it")
        self._ui(self._confirm_adopt, question, diff or "(the live skill already holds this version)", edits,
                 lambda chosen: self._adopt(run_id, version, number, chosen))

    def _confirm_adopt(self, question: str, detail: str, edits: list[dict[str, Any]], then) -> None:
        from mimo_tui.ui.trainer.adopt_screen import AdoptScreen

        def answered(answer: str | list[int] | None) -> None:
            if answer is not None:
                then(None if answer == "all" else answer)

        self.app.push_screen(AdoptScreen(question, detail, edits), answered)

    def _confirm(self, question: str, detail: str, then) -> None:
        from mimo_tui.ui.trainer.confirm_run_action import ConfirmRunAction

        self.app.push_screen(ConfirmRunAction(question, detail), lambda yes: then() if yes else None)

    @work(thread=True, exit_on_error=False, group="trainer-adopt")
    def _adopt(self, run_id: str, version: str | int, number: int, edits: list[int] | None = None) -> None:
        from mimo_tui.services import StoreError
        from mimo_tui.skillopt.staging import StagingError

        try:
            # a label, so the commit names it (best, final); only the chosen edits when some were left out
            result = self.services.adopt_run(run_id, version, edits)
        except (StagingError, StoreError, OSError) as exc:
            self._ui(self.notify, f"not adopted: {exc}", title="Trainer", severity="error", timeout=12)
            return
        self._ui(self.refresh_runs)  # the run list and header say "adopted" now, not at the next poll
        said = (f"{result.message} (commit {result.commit[:8]}): the memory pane's history reverts it" if result.commit
                else f"the live skill already holds v{number:04d}: nothing to commit")
        self._ui(self.notify, said, title="Trainer", timeout=10)

    def action_discard(self) -> None:
        view = self.view
        if view is None:
            self.notify("no run selected", severity="warning")
            return
        if not view.finished:
            self.notify(f"{view.run_id} is still running: discard once it has ended (x stops it)", severity="warning")
            return
        run_id = view.run_id
        self._confirm(f"Discard the proposal of {run_id}? The live skill stays as it is; the run folder is kept",
                      "", lambda: self._discard(run_id))

    @work(thread=True, exit_on_error=False, group="trainer-adopt")
    def _discard(self, run_id: str) -> None:
        from mimo_tui.skillopt.staging import StagingError

        try:
            self.services.discard_run(run_id)
        except (StagingError, OSError) as exc:
            self._ui(self.notify, f"not discarded: {exc}", title="Trainer", severity="error")
            return
        self._ui(self.refresh_runs)
        self._ui(self.notify, f"{run_id}: proposal discarded (the live skill is unchanged)", title="Trainer")

    # -- items, diffs ---------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#trainer-steps")
    def _step_selected(self, event: DataTable.RowSelected) -> None:
        if self.view is not None and event.row_key.value is not None:
            self.open_step_items(int(event.row_key.value))

    def open_step_items(self, step: int | None = None) -> None:
        """The items of `step` (the highlighted step when None) in their own screen."""
        view = self.view
        if view is None or not view.steps:
            self.notify("no finished step yet", severity="warning")
            return
        if step is None:
            table = self.query_one("#trainer-steps", DataTable)
            step = sorted(view.steps)[min(table.cursor_row, len(view.steps) - 1)]
        self._load_step_items(view.run_id, step, dict(view.items_by_step.get(step, {})))

    @work(thread=True, exit_on_error=False, group="trainer-items")
    def _load_step_items(self, run_id: str, step: int, flips: dict[str, str]) -> None:
        items = self.services.step_items(run_id, step, flips)
        self._ui(self._show_step_items, items)

    def _show_step_items(self, items) -> None:
        from mimo_tui.ui.trainer.flip_screen import FlipScreen

        self.app.push_screen(FlipScreen(items))

    @on(LineageTable.DiffAsked)
    def _diff_asked(self, event: LineageTable.DiffAsked) -> None:
        if self.view is not None:
            self._load_version_diff(self.view.run_id, event.old, event.new)

    @work(thread=True, exit_on_error=False, group="trainer-diff")
    def _load_version_diff(self, run_id: str, old: int, new: int) -> None:
        diff = self.services.version_diff(run_id, old, new)
        self._ui(self._show_version_diff, f"{run_id}: v{old:04d} → v{new:04d}", diff)

    def _show_version_diff(self, title: str, diff: str) -> None:
        from mimo_tui.ui.trainer.diff_screen import VersionDiffScreen

        self.app.push_screen(VersionDiffScreen(title, diff))

    # -- starting and stopping ------------------------------------------------------------------
    def action_train(self) -> None:
        """Ask about training the highlighted skill (or the first trainable one): nothing starts before Start."""
        skill = self.query_one(SkillCatalogue).highlighted_skill
        trainable = [e.name for e in self.entries if e.eval_dir]
        self.start_training(skill if skill in trainable else (trainable[0] if trainable else skill or ""))

    @on(OptionList.OptionSelected, "#trainer-skills")
    def _skill_selected(self, event: OptionList.OptionSelected) -> None:
        skill = self.query_one(SkillCatalogue).highlighted_skill
        if skill:
            self.start_training(skill)

    def start_training(self, skill: str, resume: str | None = None) -> None:
        """Resume RUN at once (it keeps its recorded cap); a new run of SKILL first asks with the start form."""
        if self.project is None:
            self.notify("the project is still opening", severity="warning")
            return
        entry = next((e for e in self.entries if e.name == skill), None)
        if resume is None and entry is None:
            self.notify("no trainable skill: add one under .mimo/skills/<name>/SKILL.md with an eval/ dataset",
                        severity="warning")
            return
        if resume is None and entry is not None and entry.eval_dir is None:
            self.notify(f"{skill} has no eval/ dataset to train on ({entry.folder / 'eval'})", severity="error")
            return
        if any(p.alive and p.skill == skill for p in self.processes):
            self.notify(f"{skill} is already training from here: x stops it", severity="warning")
            return
        if resume:
            self._launch(["--resume", resume], skill, resume)
            return
        self._ask_before_training(skill)

    def _ask_before_training(self, skill: str) -> None:
        from mimo_tui.ui.trainer.start_form import DEFAULT_CAP_USD, StartTrainingForm, TrainingChoice

        assert self.project is not None
        table = self.project.config.table("trainer")
        configured = table.get("max_usd")
        cap = float(configured) if isinstance(configured, (int, float)) and configured > 0 else DEFAULT_CAP_USD
        origin = ("cap from config [trainer] max_usd" if self.project.config.sources.get("trainer.max_usd") != "default"
                  else f"default cap ${cap:g}: [trainer] max_usd in config changes it")
        trainable = [e.name for e in self.entries if e.eval_dir]
        form = StartTrainingForm(self.project.root, trainable, skill, str(table.get("target", "offline/target")),
                                 str(table.get("optimizer", "offline/optimizer")), cap, origin)

        def answered(choice: TrainingChoice | None) -> None:
            if choice is not None:
                self._launch([*choice.arguments(), "--yes"], choice.skill, None)

        self.app.push_screen(form, answered)

    @work(thread=True, exit_on_error=False, group="trainer-launch")
    def _launch(self, args: list[str], skill: str, resume: str | None) -> None:
        assert self.project is not None
        known = known_runs(self.runs_dir)
        try:
            process = TrainingProcess.start(self.project.root, args, skill, self.project.workspace.cache_dir / "trainer-logs",
                                            known, run_id=resume)
        except OSError as exc:
            self._ui(self.notify, f"cannot start the trainer: {exc}", title="Trainer", severity="error")
            return
        self._ui(self._launched, process)

    def _launched(self, process: TrainingProcess) -> None:
        self.processes.append(process)
        what = f"resuming {process.run_id}" if process.run_id else f"training {process.skill}"
        self.notify(f"{what} (log: {process.log_path.name}); x stops it", title="Trainer")
        if process.run_id:
            self._select(process.run_id)
        self.watch_process(process)

    @work(thread=True, exit_on_error=False, group="trainer-process")
    def watch_process(self, process: TrainingProcess) -> None:
        """Find the run folder the subprocess creates, then wait for it to end."""
        while process.alive and process.run_id is None:
            found = self._new_run_of(process)
            if found:
                self._ui(self._found_run, process, found)
                break
            time.sleep(0.2)
        code = process.popen.wait()
        if process.run_id is None:
            found = self._new_run_of(process)
            if found:
                self._ui(self._found_run, process, found)
        self._ui(self._process_ended, process, code)

    def _new_run_of(self, process: TrainingProcess) -> str | None:
        return find_new_run(self.runs_dir, process.known_runs, process.skill)

    def _found_run(self, process: TrainingProcess, run_id: str) -> None:
        if process.run_id is None:
            process.run_id = run_id
            self._select(run_id)

    def _select(self, run_id: str) -> None:
        """Show `run_id` now, and keep it highlighted once the list has caught up."""
        if self.view is None or self.view.run_id != run_id:
            self._follow(run_id)
        self._pending_select = run_id
        self.refresh_runs()

    def _process_ended(self, process: TrainingProcess, code: int) -> None:
        name = process.run_id or process.skill
        if code == 0:
            self.notify(f"{name}: training finished", title="Trainer")
        elif code == 3 or process.stop_sent:
            self.notify(f"{name}: stopped; r resumes it", title="Trainer")
        else:
            tail = process.log_tail()
            self.notify(f"{name}: the trainer exited with code {code}\n{tail}", title="Trainer", severity="error", timeout=20)
        self.refresh_runs()

    def _selected_row(self) -> RunRow | None:
        run_id = self.query_one(RunList).selected_run
        return next((r for r in self.rows if r.run_id == run_id), None)

    def action_stop(self) -> None:
        row = self._selected_row()
        if row is None:
            self.notify("no run selected", severity="warning")
            return
        ours = next((p for p in self.processes if p.run_id == row.run_id and p.alive), None)
        if ours is not None:
            ours.stop()
            self.notify(f"stopping {row.run_id} after the calls in flight (resumable)", title="Trainer")
        elif row.status == "running":
            self.notify(f"{row.run_id} was started elsewhere (another terminal or process): stop it there with Ctrl-C",
                        title="Trainer", severity="warning", timeout=10)
        else:
            self.notify(f"{row.run_id} is not running ({row.status})")

    def action_resume(self) -> None:
        row = self._selected_row()
        if row is None:
            self.notify("no run selected", severity="warning")
        elif row.status == "running":
            self.notify(f"{row.run_id} is running", severity="warning")
        elif row.status == "finished" and not self.services.has_hand_candidates(row.run_id):
            self.notify(f"{row.run_id} finished: nothing to resume (t trains again; e or f gives it a candidate)")
        else:
            self.start_training(row.skill, resume=row.run_id)

    def palette_commands(self) -> Iterable[SystemCommand]:
        for entry in self.entries:
            if entry.eval_dir:
                yield SystemCommand(f"Trainer: train {entry.name}", f"Start `mimo skill train {entry.name}` ({entry.origin})",
                                    lambda name=entry.name: self.start_training(name))
        yield SystemCommand("Trainer: stop selected run", "Stop the highlighted run cleanly (resumable)", self.action_stop)
        yield SystemCommand("Trainer: resume selected run", "Continue a stopped run (`mimo skill train --resume`)", self.action_resume)
        yield SystemCommand("Trainer: edit a candidate for the run", "Edit the incumbent skill and give it to the run (its gate "
                            "decides)", lambda: self.action_steer("edited"))
        yield SystemCommand("Trainer: give feedback to the run", "Written feedback: the optimizer proposes edits from it",
                            lambda: self.action_steer("feedback"))
        yield SystemCommand("Trainer: adopt the run's best version", "One commit by skillopt into the live skill "
                            "(`mimo skill adopt RUN`)", self.action_adopt)
        yield SystemCommand("Trainer: adopt the run's final version", "`mimo skill adopt RUN --version final`",
                            lambda: self.action_adopt("final"))
        yield SystemCommand("Trainer: discard the run's proposal", "The live skill stays as it is", self.action_discard)
        yield SystemCommand("Trainer: items of the highlighted step", "Per-item flips with input, expected and output",
                            self.open_step_items)
