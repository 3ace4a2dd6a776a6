"""Asks before a training run starts: skill, models, a dollar cap and the pre-run estimate; Start or Cancel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from mimo_tui.ui.worker_results import ShowsWorkerFailures, deliver

# The cap a paid run gets when config `[trainer] max_usd` names none.
DEFAULT_CAP_USD = 2.0
OFFLINE_PREFIX = "offline/"


@dataclass(frozen=True)
class TrainingChoice:
    """What the user confirmed: the run to start and its dollar cap (None only for offline models)."""

    skill: str
    target: str
    optimizer: str
    max_usd: float | None

    def arguments(self) -> list[str]:
        args = [self.skill, "--target", self.target, "--optimizer", self.optimizer]
        return args + (["--max-usd", f"{self.max_usd:g}"] if self.max_usd is not None else [])


def parse_cap(text: str) -> float | None:
    """`$2`, `2.50` -> 2.0, 2.5; None when it is not a positive number."""
    try:
        value = float(text.strip().lstrip("$").strip())
    except ValueError:
        return None
    return value if value > 0 and value == value else None


class StartTrainingForm(ShowsWorkerFailures, ModalScreen[TrainingChoice | None]):
    """Nothing that can spend money starts from the trainer pane without this form's Start and a cap."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="train_form.cancel"),
        Binding("ctrl+y", "start", "Start", id="train_form.start"),
    ]
    DEFAULT_CSS = """
    StartTrainingForm { align: center middle; }
    StartTrainingForm #train-form { width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1; }
    StartTrainingForm #train-form-skills { height: auto; max-height: 6; }
    StartTrainingForm .train-form-row { height: auto; }
    StartTrainingForm .train-form-label { width: 12; padding: 1 0 0 0; }
    StartTrainingForm Input { width: 1fr; }
    StartTrainingForm #train-form-estimate { height: auto; margin: 1 0 0 0; }
    StartTrainingForm #train-form-buttons { height: auto; margin-top: 1; }
    StartTrainingForm #train-form-buttons Button { margin-right: 2; }
    """

    def __init__(self, root: Path, skills: list[str], skill: str, target: str, optimizer: str,
                 cap_usd: float, cap_origin: str) -> None:
        super().__init__()
        self.root = root
        self.skills = skills
        self.skill = skill if skill in skills else skills[0]
        self.target, self.optimizer = target, optimizer
        self.cap_usd, self.cap_origin = cap_usd, cap_origin
        self.estimate: dict | None = None
        self._asked: tuple[str, str, str] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="train-form"):
            yield Static(Text("Start a training run", style="bold"))
            skills = OptionList(*[Option(name, id=name) for name in self.skills], id="train-form-skills")
            yield skills
            with Horizontal(classes="train-form-row"):
                yield Static("target", classes="train-form-label")
                yield Input(self.target, id="train-form-target")
            with Horizontal(classes="train-form-row"):
                yield Static("optimizer", classes="train-form-label")
                yield Input(self.optimizer, id="train-form-optimizer")
            with Horizontal(classes="train-form-row"):
                yield Static("cap (USD)", classes="train-form-label")
                yield Input(f"{self.cap_usd:g}", id="train-form-cap")
            yield Static(Text(self.cap_origin, style="dim"), id="train-form-cap-origin")
            yield Static("", id="train-form-estimate")
            with Horizontal(id="train-form-buttons"):
                yield Button("Start (ctrl+y)", id="train-form-start", variant="warning", disabled=True)
                yield Button("Cancel (esc)", id="train-form-cancel")

    def on_mount(self) -> None:
        skills = self.query_one("#train-form-skills", OptionList)
        skills.highlighted = self.skills.index(self.skill)
        skills.focus()
        self._ask_estimate()

    # -- the estimate ---------------------------------------------------------------------------
    def _models(self) -> tuple[str, str]:
        target = self.query_one("#train-form-target", Input).value.strip() or self.target
        optimizer = self.query_one("#train-form-optimizer", Input).value.strip() or self.optimizer
        return target, optimizer

    @property
    def paid(self) -> bool:
        return not all(name.startswith(OFFLINE_PREFIX) for name in self._models())

    def _ask_estimate(self) -> None:
        target, optimizer = self._models()
        asked = (self.skill, target, optimizer)
        if asked == self._asked:
            return
        self._asked, self.estimate = asked, None
        self.query_one("#train-form-start", Button).disabled = True
        self._show_estimate()
        self._estimate(*asked)

    @work(thread=True, exit_on_error=False, exclusive=True, group="train-form-estimate")
    def _estimate(self, skill: str, target: str, optimizer: str) -> None:
        from mimo_tui.skillopt.training_process import estimate_new_run

        result = estimate_new_run(self.root, skill, target, optimizer)
        deliver(self, self._estimated, (skill, target, optimizer), result)

    def _estimated(self, asked: tuple[str, str, str], result: dict) -> None:
        if asked != self._asked:
            return  # the user changed the skill or a model meanwhile
        self.estimate = result
        self.query_one("#train-form-start", Button).disabled = "error" in result
        self._show_estimate()

    def _show_estimate(self) -> None:
        text = Text()
        cap = parse_cap(self.query_one("#train-form-cap", Input).value)
        if self.estimate is None:
            text.append("estimating the cost of this run… (a few seconds)", style="italic")
        elif "error" in self.estimate:
            text.append(f"no estimate: {self.estimate['error']}", style="bold red")
        else:
            usd = float(self.estimate.get("usd", 0.0))
            known = bool(self.estimate.get("price_known"))
            text.append("estimate: ", style="bold")
            text.append(f"~{self.estimate.get('calls', 0)} calls, ")
            text.append(f"${usd:.2f}" if known else "price unknown (not in the price list)", style="bold")
            if self.estimate.get("calls_max", 0) > self.estimate.get("calls", 0):
                text.append(f" (at most {self.estimate['calls_max']} calls)")
            if not self.paid:
                text.append("\noffline demo models: this run costs nothing", style="green")
            elif cap is not None:
                text.append(f"\nthe run stops when it has spent ${cap:.2f} (it may cost up to that)", style="yellow")
        if self.paid and cap is None:
            text.append("\na paid run needs a cap above $0", style="bold red")
        self.query_one("#train-form-estimate", Static).update(text)

    @on(OptionList.OptionHighlighted, "#train-form-skills")
    def _skill_changed(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.skill:
            self.skill = event.option.id
            self._ask_estimate()

    @on(Input.Changed, "#train-form-cap")
    def _cap_changed(self) -> None:
        self._show_estimate()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._ask_estimate()

    @on(Input.Blurred)
    def _left_input(self) -> None:
        self._ask_estimate()

    # -- answers --------------------------------------------------------------------------------
    @on(Button.Pressed, "#train-form-start")
    def action_start(self) -> None:
        if self.estimate is None or "error" in self.estimate or self._asked != (self.skill, *self._models()):
            self.notify("wait for the estimate of this choice first", severity="warning")
            self._ask_estimate()
            return
        cap = parse_cap(self.query_one("#train-form-cap", Input).value)
        if self.paid and cap is None:
            self.notify("a paid run needs a dollar cap above 0", severity="error")
            return
        target, optimizer = self._models()
        self.dismiss(TrainingChoice(self.skill, target, optimizer, cap if self.paid else None))

    @on(Button.Pressed, "#train-form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
