"""The runner of bench/skill_learning.py (see its docstring): one trainer run per seed against the simulated
models behind a local OpenAI-compatible server, and the figures."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill_learning_sim import Item, Optimizer, Target, make_items, reference_skill, task_text, true_score

from mimo_tui.llm import Gateway, ResponseCache
from mimo_tui.llm.runtime import load_litellm
from mimo_tui.project import Project
from mimo_tui.skillopt.budget import CostEstimate
from mimo_tui.skillopt.catalogue import SkillEntry
from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.edits import apply_edits, edit_from_record
from mimo_tui.skillopt.events import CandidateBuilt, GateDecided, SkillAccepted, SlowUpdate, StepFinished
from mimo_tui.skillopt.prompts import REFLECT_MARK, SLOW_MARK
from mimo_tui.skillopt.session import new_run
from tests.fixtures.openai_server import LocalOpenAIServer, Reply

SKILL = "bench-normalise"
SEED_SKILL = f"""---
name: {SKILL}
description: Normalise one value named in a record (a date, an amount, a company, a time, a phone number, a currency or a word).
---

# Normalise values

Each task names one value from a business record. Answer with the normalised value only, nothing else.
"""
GRADER_MODULE = '''"""Benchmark grader for training items: exact match, and feedback that says what was expected."""


def check(output, spec):
    expected, got = spec["answer"], output.strip()
    if got == expected:
        return 1.0, "correct"
    return 0.0, f"expected {expected!r}, got {got!r}"
'''
SIZES = {"train": 21, "val": 28, "test": 14, "heldout": 210}
GOAL = 0.8


@dataclass
class SeedResult:
    seed: int
    calls_to_goal: int | None = None
    step_of_goal: int | None = None
    final_heldout: float = 0.0
    final_true: float = 0.0
    reference_heldout: float = 0.0
    reference_true: float = 0.0
    accepted_regressions: int = 0
    accepted_harmful_edits: int = 0
    rejected_improvements: int = 0
    target_calls: int = 0
    optimizer_calls: int = 0
    feedback_with_expected: int = 0
    decisions: list[str] = field(default_factory=list)
    stop_reason: str = ""


class World:
    """The simulated models behind the server, with counts of the requests each received."""

    def __init__(self, seed: int, items: dict[str, Item], slip: float) -> None:
        self.target = Target(seed, items, slip)
        self.optimizer = Optimizer(seed)
        self.calls: Counter[str] = Counter()
        self.feedback_with_expected = 0
        self._lock = threading.Lock()

    def respond(self, body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        system = str(messages[0].get("content", ""))
        user = str(messages[-1].get("content", ""))
        if REFLECT_MARK in system or SLOW_MARK in system:
            with self._lock:
                self.calls["optimizer"] += 1
                self.feedback_with_expected += len(re.findall(r"^FEEDBACK: expected '", user, re.M))
            if SLOW_MARK in system:
                return Reply(text=json.dumps({"guidance": "Keep each rule to the kind of value it is about."}))
            return Reply(text=self.optimizer.reflect(user))
        with self._lock:
            self.calls["target"] += 1
        match = re.search(r"<skill>\n(.*)\n</skill>", system, re.S)
        return Reply(text=self.target.answer(match.group(1) if match else "", user, float(body.get("temperature") or 0.0)))


def _write_dataset(folder: Path, splits: dict[str, list[Item]], grader: str) -> None:
    (folder / "eval").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SEED_SKILL, encoding="utf-8")
    (folder / "eval" / "bench_feedback.py").write_text(GRADER_MODULE, encoding="utf-8")
    for name in ("train", "val", "test"):
        rows = []
        for item in splits[name]:
            row: dict[str, Any] = {"id": item.id, "input": task_text(item)}
            if name == "train" and grader == "python-feedback":
                row["grader"] = {"type": "python", "function": "bench_feedback:check", "answer": item.answer}
            else:
                row["expected"] = item.answer
            rows.append(row)
        (folder / "eval" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _measured(target: Target, skill: str, items: list[Item]) -> float:
    return sum(target.answer(skill, task_text(i), 0.0) == i.answer for i in items) / len(items)


async def one_seed(seed: int, args: argparse.Namespace, server: LocalOpenAIServer, root: Path) -> SeedResult:
    rng = random.Random(seed)
    splits = {name: make_items(rng, f"s{seed}-{name}", count) for name, count in SIZES.items()}
    items = {i.id: i for group in splits.values() for i in group}
    world = World(seed, items, args.slip)
    server.responder = world.respond
    folder = root / "skills" / SKILL
    _write_dataset(folder, splits, args.grader)
    (root / "proj").mkdir(parents=True)
    # Its own .mimo/ marks the project root: else a stray .mimo/ in a parent folder (a /tmp/.mimo left by
    # something else was seen) is taken as the project, and seeds and runs share its skill and cache.
    (root / "proj" / ".mimo").mkdir()
    project = Project.open(root / "proj")
    assert project.root == (root / "proj").resolve(), f"the benchmark's project resolved to {project.root}"
    endpoint = {"api_base": server.base_url, "api_key": "sk-bench"}
    models = {"bench-target": {"model": "openai/bench-target", **endpoint},
              "bench-optimizer": {"model": "openai/bench-optimizer", **endpoint}}
    config = TrainConfig(skill=SKILL, target="bench-target", optimizer="bench-optimizer", seed=seed)
    for name in ("samples", "alpha", "gate_rounds", "gate_extra_samples", "gate_temperature", "gate_resample", "gate_more_if",
                 "margin", "epochs", "batch"):
        if getattr(args, name) is not None:
            setattr(config, name, getattr(args, name))
    heldout, val = splits["heldout"], splits["val"]
    managed = not config.edit_whole
    result = SeedResult(seed)
    track: dict[str, Any] = {"incumbent": SEED_SKILL, "candidates": {}, "decided_at": 0}
    holder: dict[str, Any] = {}

    def reached(step: int, calls: int) -> None:
        if result.calls_to_goal is None and true_score(track["incumbent"], val, args.slip) >= GOAL:
            result.calls_to_goal, result.step_of_goal = calls, step

    def watch(event: Any) -> None:
        if isinstance(event, CandidateBuilt):
            edits = [edit_from_record(a) for a in event.applied]
            track["candidates"][event.step] = (track["incumbent"], apply_edits(track["incumbent"], edits, managed=managed).text, edits)
        elif isinstance(event, GateDecided):
            track["decided_at"] = world.calls["target"]
            before, after, edits = track["candidates"][event.step]
            gain = true_score(after, heldout, args.slip) - true_score(before, heldout, args.slip)
            ev = event.evidence
            result.decisions.append(f"{event.step}:{event.action[0].upper()}({gain:+.2f})")
            if args.verbose:
                print(f"    step {event.step}: {event.action:9s} true held-out change {gain:+.3f}  "
                      f"+{ev.get('improved')}/-{ev.get('regressed')} p={ev.get('p_value')} rounds={len(ev.get('rounds', []))}  "
                      f"edits: {[e.text[:40] for e in edits]}")
            if event.action != "accept" and gain > 1e-9:
                result.rejected_improvements += 1
        elif isinstance(event, SkillAccepted):
            before, after, edits = track["candidates"][event.step]
            text = holder["run"].read_skill_version(event.version)
            assert text == after, "the benchmark's copy of the candidate differs from the trainer's"
            true_before, true_after = true_score(before, heldout, args.slip), true_score(after, heldout, args.slip)
            if true_after < true_before - 1e-9:
                result.accepted_regressions += 1
            for index in range(len(edits)):
                without = apply_edits(before, [e for n, e in enumerate(edits) if n != index], managed=managed).text
                if true_score(without, heldout, args.slip) > true_after + 1e-9:
                    result.accepted_harmful_edits += 1
            track["incumbent"] = text
            reached(event.step, track["decided_at"])
        elif isinstance(event, SlowUpdate):
            track["incumbent"] = holder["run"].read_skill_version(event.version)
            reached(-1, world.calls["target"])
        elif isinstance(event, StepFinished):
            pass

    def gateway(cache: ResponseCache) -> Gateway:
        return Gateway(max_concurrency=8, max_retries=1, timeout_s=30, cache=cache, backoff_base_s=0.01, backoff_max_s=0.05)

    entry = SkillEntry(SKILL, "benchmark", folder, "bench", folder / "eval")
    prepared = new_run(config, project.store, project.workspace.runs_dir, entry, models, gateway, watch)
    holder["run"] = prepared.run
    reached(0, 0)
    summary = await prepared.trainer.run(CostEstimate(0, 0, 0, 0.0, True))
    final = prepared.run.read_skill_version(summary["test"]["final"]["version"]) if summary.get("test") else track["incumbent"]
    reference = reference_skill(SEED_SKILL)
    result.final_heldout = _measured(world.target, final, heldout)
    result.final_true = true_score(final, heldout, args.slip)
    result.reference_heldout = _measured(world.target, reference, heldout)
    result.reference_true = true_score(reference, heldout, args.slip)
    result.stop_reason = str(summary.get("stop_reason"))
    result.target_calls, result.optimizer_calls = world.calls["target"], world.calls["optimizer"]
    result.feedback_with_expected = world.feedback_with_expected
    return result


def _line(r: SeedResult) -> str:
    goal = f"{r.calls_to_goal} target calls (step {r.step_of_goal})" if r.calls_to_goal is not None else "NOT reached"
    return (f"seed {r.seed}: val >= {GOAL} after {goal}; held-out final {r.final_heldout:.3f} (true {r.final_true:.3f}) "
            f"vs all conventions {r.reference_heldout:.3f} (true {r.reference_true:.3f}); accepted regressions "
            f"{r.accepted_regressions} (harmful edits inside accepted steps {r.accepted_harmful_edits}); rejected "
            f"improvements {r.rejected_improvements}; calls: target {r.target_calls}, optimizer {r.optimizer_calls}; "
            f"gate {' '.join(r.decisions)}" + ("" if r.stop_reason == "finished" else f"; RUN STOPPED: {r.stop_reason}"))


async def run_benchmark(args: argparse.Namespace) -> int:
    load_litellm()
    defaults = TrainConfig(skill=SKILL)
    shown = {n: getattr(args, n) if getattr(args, n) is not None else getattr(defaults, n)
             for n in ("samples", "alpha", "gate_rounds", "gate_extra_samples", "gate_temperature", "gate_resample",
                       "gate_more_if", "margin", "epochs")}
    print(f"skill_learning: grader {args.grader}, slip {args.slip}, settings {shown} "
          f"(batch {defaults.batch} capped at half the training split, edit budget {defaults.edit_budget})")
    results = []
    with LocalOpenAIServer(model_ids=("bench-target", "bench-optimizer")) as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        for seed in range(1, args.seeds + 1):
            result = await one_seed(seed, args, server, Path(tmp) / f"seed{seed}")
            results.append(result)
            print(_line(result), flush=True)
    if not any(r.feedback_with_expected for r in results):
        print("note: no training feedback shown to the optimizer said what was expected, so it had nothing to learn "
              "from; this grader hides the training signal (try --grader python-feedback)")
    calls = [r.calls_to_goal for r in results if r.calls_to_goal is not None]
    all_reached = len(calls) == len(results)
    median = statistics.median(calls) if all_reached else None
    worst_reg = max(r.accepted_regressions for r in results)
    worst_rej = max(r.rejected_improvements for r in results)
    print(f"summary over {len(results)} seeds: reached {GOAL} in {len(calls)}/{len(results)}; median target calls "
          f"{median if median is not None else 'n/a'} (all: {[r.calls_to_goal for r in results]}); final held-out "
          f"mean {statistics.mean(r.final_heldout for r in results):.3f} vs all conventions "
          f"{statistics.mean(r.reference_heldout for r in results):.3f}; accepted regressions per seed "
          f"{[r.accepted_regressions for r in results]}; harmful edits inside accepted steps "
          f"{[r.accepted_harmful_edits for r in results]}; rejected improvements per seed "
          f"{[r.rejected_improvements for r in results]}")
    checks = {"every seed reaches 0.8": all_reached, "median under 150 target calls": median is not None and median < 150,
              "no accepted regression": worst_reg == 0, "at most one rejected improvement per seed": worst_rej <= 1}
    print("targets: " + "; ".join(f"{name}: {'ok' if ok else 'MISSED'}" for name, ok in checks.items()))
    return 0
