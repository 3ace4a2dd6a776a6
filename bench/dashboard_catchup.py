"""Time for the trainer dashboard to catch up with a 10,000-event recorded log, beside reading it alone.

A run folder is written with a realistic mix (per step: step_started, rollout_progress every 5 % of three stages,
proposals, merge, selection, candidate, gate with 40 item flips, accept or reject, budget, step_finished; a run
finished at the end) until it holds --events events. Three figures in the same run:

- reference: read + parse events.jsonl to typed events alone (skillopt/run_reader.read_run_events);
- fold: the same plus folding every event into the dashboard's RunView (no drawing);
- dashboard: the real app (headless, 120x40), F4, from the key press until the pane has folded every event and
  its step table and lineage show every step (includes the reader's 0.3 s poll interval and the redraw timer);
  beside the same app and key press with a one-step log (what opening the pane costs by itself).

Run: python bench/dashboard_catchup.py [--events 10000] [--repeat 3]   (from the repo root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.environ.get("MIMO_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
sys.path.insert(0, ROOT)

from mimo_tui.skillopt import events as ev  # noqa: E402
from mimo_tui.skillopt.events import event_to_dict  # noqa: E402

ITEMS = 40


def step_events(step: int) -> list[object]:
    accept = step % 3 == 1
    items = {f"val-{i:03d}": ("improved" if i % 7 == 0 else "stable" if i % 2 else "still_failing") for i in range(ITEMS)}
    edits = [{"op": "append", "text": f"Rule {step}.{n}: write dates as YYYY-MM-DD.", "support": 2} for n in range(2)]
    events: list[object] = [ev.StepStarted(1 + step // 50, step, 16, 2)]
    for stage, total in (("train", 16), ("val:incumbent", ITEMS), ("val:candidate", ITEMS)):
        events += [ev.RolloutProgress(stage, done, total, 0) for done in range(2, total + 1, 2)]
    events += [ev.ProposalsReceived(step, g, edits, None) for g in (1, 2)]
    events += [ev.MergeDone(step, 4, 2, [], []), ev.SelectionDone(step, 2, edits, []), ev.CandidateBuilt(step, edits, [], [], 300),
               ev.GateDecided(step, "accept" if accept else "reject", 0.5, 0.6, 1.0,
                              {"improved": 6, "regressed": 0, "still_failing": 17, "stable": 17}, items, "gate")]
    if accept:
        events.append(ev.SkillAccepted(step, step // 3 + 2, 0.5, 0.6, None))
    else:
        events.append(ev.EditsRejected(step, edits, -0.01))
    record = {"epoch": 1, "step": step, "val_before": 0.5, "val_after": 0.6, "flips": {"improved": 6, "regressed": 0},
              "applied": 2, "skipped": 0, "refused": 0, "gate_reason": "gate"}
    events += [ev.BudgetUpdate(step * 50, 0, step * 9000, step * 300, 0.0, None, None),
               ev.StepFinished(step, "accept" if accept else "reject", 1.0, record)]
    return events


def write_log(run_dir: Path, count: int) -> int:
    """events.jsonl of about `count` events; returns the number of steps."""
    lines = [ev.RunStarted(run_dir.name, "bench-skill", "bench", "bench", False, {}, {})]
    step = 0
    while len(lines) < count - 1:
        step += 1
        lines += step_events(step)
    lines = lines[: count - 1]
    steps = sum(1 for e in lines if isinstance(e, ev.StepFinished))
    lines.append(ev.RunFinished("finished", {}))
    (run_dir / "events.jsonl").write_text("".join(json.dumps(event_to_dict(e, 1.0)) + "\n" for e in lines))
    (run_dir / "config.json").write_text(json.dumps({"skill": "bench-skill", "created": time.time()}))
    (run_dir / "summary.json").write_text(json.dumps({"stop_reason": "finished", "completed": True}))
    return steps


def read_alone(path: Path) -> float:
    from mimo_tui.skillopt.run_reader import read_run_events

    started = time.perf_counter()
    read_run_events(path)
    return time.perf_counter() - started


def read_and_fold(path: Path) -> float:
    from mimo_tui.skillopt.run_reader import read_run_events
    from mimo_tui.ui.trainer.run_view import RunView

    started = time.perf_counter()
    view = RunView(path.parent.name)
    for item in read_run_events(path).events:
        view.apply(item.line, item.event)
    return time.perf_counter() - started


async def dashboard(project: Path, events: int, steps: int) -> float:
    from textual.widgets import DataTable

    from mimo_tui.ui.app import MimoApp
    from mimo_tui.ui.trainer.lineage_table import LineageTable
    from mimo_tui.ui.trainer_pane import TrainerPane

    app = MimoApp(start_dir=project, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        while app.project is None:
            await pilot.pause(0.01)
        await pilot.pause(0.5)
        started = time.perf_counter()
        await pilot.press("f4")
        pane = app.query_one(TrainerPane)
        while True:
            view = pane.view
            if (view is not None and view.events_seen >= events and pane.query_one("#trainer-steps", DataTable).row_count == steps
                    and pane.query_one(LineageTable).row_count == len(view.lineage)):
                return time.perf_counter() - started
            if time.perf_counter() - started > 120:
                raise RuntimeError("the dashboard did not catch up within 120 s")
            await pilot.pause(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from mimo_tui.project import Project

    base = Path(tempfile.mkdtemp(prefix="mimo-bench-catchup-"))
    one_step = len(step_events(1)) + 2

    def project_with(name: str, count: int) -> tuple[Path, Path, int]:
        project = base / name
        project.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=project, check=True)
        run_dir = Project.open(project).workspace.runs_dir / "20260102-030405-bench-skill"
        run_dir.mkdir(parents=True)
        return project, run_dir / "events.jsonl", write_log(run_dir, count)

    project, path, steps = project_with("big", args.events)
    small, _, small_steps = project_with("small", one_step)
    size = path.stat().st_size
    alone = [read_alone(path) for _ in range(args.repeat)]
    folded = [read_and_fold(path) for _ in range(args.repeat)]
    opened = [asyncio.run(dashboard(small, one_step, small_steps)) for _ in range(args.repeat)]
    shown = [asyncio.run(dashboard(project, args.events, steps)) for _ in range(args.repeat)]
    ref = statistics.median(alone)
    print(f"events.jsonl: {args.events:,} events, {steps} steps, {size / 1e6:.1f} MB")
    print(f"reference: read + parse to typed events      median {ref * 1000:7.1f} ms  ({args.repeat} runs)")
    print(f"read + fold into the dashboard's RunView    median {statistics.median(folded) * 1000:7.1f} ms  "
          f"({statistics.median(folded) / ref:.2f}x the reference)")
    print(f"dashboard caught up (F4 -> every event folded and every step drawn)  median "
          f"{statistics.median(shown) * 1000:7.1f} ms  ({statistics.median(shown) / ref:.2f}x the reference; "
          f"includes the 0.3 s poll interval and 0.25 s redraw timer)")
    print(f"reference: the same F4 with a one-step log ({one_step} events)   median {statistics.median(opened) * 1000:7.1f} ms; "
          f"the 10,000 events add {(statistics.median(shown) - statistics.median(opened)) * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
