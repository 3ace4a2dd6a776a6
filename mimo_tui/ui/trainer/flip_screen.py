"""The items of one step: each validation item's flip and each training item's result, filtered by class, with
the highlighted item's input, expected answer and outputs."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from mimo_tui.skillopt.flip_table import FlipRow, StepItems
from mimo_tui.ui.trainer.numbers import pct

FLIP_STYLE = {"improved": "green", "regressed": "red", "still_failing": "yellow", "stable": "dim",
              "train_failed": "yellow", "train_passed": "dim"}
FLIP_LABEL = {"still_failing": "still failing", "train_failed": "failed", "train_passed": "passed"}
# key -> (class shown, the footer's word)
FILTERS = {"a": (None, "all"), "i": ("improved", "improved"), "g": ("regressed", "regressed"),
           "f": ("still_failing", "still failing"), "s": ("stable", "stable"), "t": ("train", "training")}
SNIPPET = 34


def _one_line(text: str | None, width: int = SNIPPET) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


class FlipScreen(ModalScreen[None]):
    """Opened with Enter on a step; a/i/g/f/s/t filter by class, Escape closes."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="flips.close"),
        *(Binding(key, f"only('{key}')", word.capitalize(), id=f"flips.{key}") for key, (_, word) in FILTERS.items()),
    ]
    DEFAULT_CSS = """
    FlipScreen { align: center middle; }
    FlipScreen #flips { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    FlipScreen #flips-title { height: auto; }
    FlipScreen #flips-table { height: 1fr; }
    FlipScreen #flips-detail-box { height: 12; border-top: solid $panel; }
    """

    def __init__(self, items: StepItems) -> None:
        super().__init__()
        self.items = items
        self.only: str | None = None
        self.shown: list[FlipRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="flips"):
            yield Static("", id="flips-title")
            yield DataTable(id="flips-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="flips-detail-box"):
                yield Static("", id="flips-detail")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("item", "split", "class", "score before → after", "input", "output")
        self._fill()
        self.query_one(DataTable).focus()

    def action_only(self, key: str) -> None:
        self.only = FILTERS[key][0]
        self._fill()

    def _title(self) -> Text:
        counts = self.items.counts()
        text = Text(f"Step {self.items.step}: items", style="bold")
        text.append(f"   improved {counts['improved']} · regressed {counts['regressed']} · still failing "
                    f"{counts['still_failing']} · stable {counts['stable']} · training {counts['train_failed']} failed, "
                    f"{counts['train_passed']} passed")
        word = next(word for key, (flip, word) in FILTERS.items() if flip == self.only)
        text.append(f"\nshowing: {word}   (a all · i improved · g regressed · f still failing · s stable · "
                    "t training · Esc closes)", style="dim")
        for problem in self.items.problems:
            text.append(f"\n{problem}", style="yellow")
        return text

    def _fill(self) -> None:
        self.query_one("#flips-title", Static).update(self._title())
        table = self.query_one(DataTable)
        table.clear()
        self.shown = self.items.of_class(self.only)
        for number, row in enumerate(self.shown):
            scores = f"{pct(row.score_before)} → {pct(row.score_after)}" if row.split == "val" else pct(row.score_before)
            output = row.after if row.split == "val" else row.before
            table.add_row(row.item, row.split, Text(FLIP_LABEL.get(row.flip, row.flip), style=FLIP_STYLE.get(row.flip, "")),
                          scores, _one_line(row.input), _one_line(output, 26), key=str(number))
        self._detail(self.shown[0] if self.shown else None)

    @on(DataTable.RowHighlighted, "#flips-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and key.isdigit() and int(key) < len(self.shown):
            self._detail(self.shown[int(key)])

    def _detail(self, row: FlipRow | None) -> None:
        detail = self.query_one("#flips-detail", Static)
        if row is None:
            detail.update(Text("no item of this class in this step", style="dim"))
            return
        text = Text()
        text.append(f"{row.item}", style="bold")
        text.append(f"  ({row.split}, {FLIP_LABEL.get(row.flip, row.flip)})\n", style=FLIP_STYLE.get(row.flip, ""))
        text.append("input: ", style="bold")
        text.append(f"{row.input}\n")
        text.append("expected: ", style="bold")
        text.append(f"{row.expected}\n")
        if row.split == "val":
            text.append("output before (incumbent): ", style="bold")
            text.append(f"{row.before if row.before is not None else '(no answer: the rollout errored or was not recorded)'}\n")
            text.append("output after (candidate): ", style="bold")
            text.append(f"{row.after if row.after is not None else '(no answer: the rollout errored or was not recorded)'}")
        else:
            text.append("output: ", style="bold")
            text.append(f"{row.before if row.before is not None else '(no answer: the rollout errored)'}")
        detail.update(text)
