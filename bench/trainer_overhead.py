"""Trainer benchmark against the local OpenAI-compatible server (100 ms per reply).

Measures: the trainer's own overhead as a share of wall time (target < 5 %), rollouts per second
at gateway concurrency 1, 8 and 32, and the provider calls of a stopped-then-resumed run against a
fresh one. Run from the repository root: `python bench/trainer_overhead.py`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimo_tui.llm import Completion, Gateway, ModelSpec, ResponseCache  # noqa: E402
from mimo_tui.llm.runtime import load_litellm  # noqa: E402
from mimo_tui.project import Project  # noqa: E402
from mimo_tui.skillopt import offline_models  # noqa: E402
from mimo_tui.skillopt.budget import CostEstimate  # noqa: E402
from mimo_tui.skillopt.catalogue import find_skills  # noqa: E402
from mimo_tui.skillopt.config import TrainConfig  # noqa: E402
from mimo_tui.skillopt.dataset import load_splits  # noqa: E402
from mimo_tui.skillopt.run_folder import RunFolder, read_events  # noqa: E402
from mimo_tui.skillopt.session import new_run, resume_run  # noqa: E402
from mimo_tui.skillopt.trainer import Trainer  # noqa: E402
from tests.fixtures.openai_server import LocalOpenAIServer, Reply  # noqa: E402

LATENCY_S = 0.1
NO_ESTIMATE = CostEstimate(0, 0, 0, 0.0, True)


def demo_responder(body: dict[str, Any]) -> Reply:
    """The demo's simulated target and optimizer, served over HTTP."""
    messages = body["messages"]
    system = messages[0]["content"]
    handler = offline_models._optimizer if "[skillopt:" in system else offline_models._target
    return Reply(text=handler(messages, None, {}).text)


class TimedGateway(Gateway):
    """A gateway that records the interval of every call, to separate model time from trainer time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.intervals: list[tuple[float, float]] = []

    async def complete(self, spec: ModelSpec, messages: list[dict], tools: list[dict] | None = None, **kw: Any) -> Completion:
        start = time.perf_counter()
        try:
            return await super().complete(spec, messages, tools, **kw)
        finally:
            self.intervals.append((start, time.perf_counter()))


def busy_time(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of intervals: time during which at least one model call was in flight."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def project_in(folder: Path) -> tuple[Project, Any]:
    (folder / "proj").mkdir(parents=True)
    project = Project.open(folder / "proj")
    entry = next(e for e in find_skills(project.root) if e.name == "date-normalizer")
    return project, entry


def server_models(server: LocalOpenAIServer) -> dict[str, Any]:
    endpoint = {"model": "openai/test", "api_base": server.base_url, "api_key": "sk-test"}
    return {"bench-target": endpoint, "bench-optimizer": endpoint}


def factory(concurrency: int, gateways: list[TimedGateway]):
    def build(cache: ResponseCache) -> Gateway:
        gateway = TimedGateway(max_concurrency=concurrency, max_retries=2, timeout_s=30, cache=cache)
        gateways.append(gateway)
        return gateway

    return build


async def overhead(server: LocalOpenAIServer, folder: Path) -> dict[str, float]:
    project, entry = project_in(folder)
    gateways: list[TimedGateway] = []
    config = TrainConfig(skill="date-normalizer", target="bench-target", optimizer="bench-optimizer", epochs=1)
    prepared = new_run(config, project.store, project.workspace.runs_dir, entry, server_models(server), factory(8, gateways))
    await prepared.trainer.gateway.warm_up()
    started = time.perf_counter()
    summary = await prepared.trainer.run(NO_ESTIMATE)
    wall = time.perf_counter() - started
    model = busy_time(gateways[0].intervals)
    return {"wall_s": wall, "model_busy_s": model, "overhead_s": wall - model, "overhead_pct": 100 * (wall - model) / wall,
            "calls": gateways[0].totals.calls, "accepted": len(summary["accepted_steps"]),
            "test_baseline": summary["test"]["baseline"]["score"], "test_final": summary["test"]["final"]["score"]}


async def rollouts_per_second(server: LocalOpenAIServer, folder: Path, concurrency: int) -> float:
    entry = next(e for e in find_skills(folder) if e.name == "date-normalizer")
    splits = load_splits(entry.eval_dir)
    tasks = (splits.train + splits.test)[: max(16, min(128, concurrency * 4))]
    run = RunFolder(folder / f"rollouts-{concurrency}")
    run.path.mkdir(parents=True)
    gateway = Gateway(max_concurrency=concurrency, max_retries=2, timeout_s=30, cache=ResponseCache(run.cache_dir))
    await gateway.warm_up()
    spec = ModelSpec("openai/test", api_base=server.base_url, api_key="sk-test")
    trainer = Trainer(TrainConfig(skill="date-normalizer"), splits, run, gateway, spec, spec, lambda text, message, previous: None)
    skill = (entry.folder / "SKILL.md").read_text()
    started = time.perf_counter()
    await trainer.rollout(skill, tasks, "bench")
    return len(tasks) / (time.perf_counter() - started)


async def resume_calls(server: LocalOpenAIServer, folder: Path) -> dict[str, int]:
    project, entry = project_in(folder)
    models = server_models(server)
    gateways: list[TimedGateway] = []
    config = TrainConfig(skill="date-normalizer", target="bench-target", optimizer="bench-optimizer", epochs=1)
    original = (entry.folder / "SKILL.md").read_text()
    fresh = new_run(config, project.store, project.workspace.runs_dir, entry, models, factory(8, gateways))
    await fresh.trainer.run(NO_ESTIMATE)
    fresh_calls = gateways[-1].totals.calls
    middle = len(read_events(fresh.run.path)) // 2
    project.store.write("skills/date-normalizer/SKILL.md", original)
    seen = {"n": 0}
    stopped = new_run(TrainConfig(**{**config.to_dict(), "created": time.time()}), project.store,
                      project.workspace.runs_dir, entry, models, factory(8, gateways))

    def stop_midway(event: object) -> None:
        seen["n"] += 1
        if seen["n"] == middle:
            stopped.trainer.request_stop()

    stopped.trainer.subscriber = stop_midway
    await stopped.trainer.run(NO_ESTIMATE)
    first_calls = gateways[-1].totals.calls
    resumed = resume_run(stopped.run.path, project.store, models, factory(8, gateways))
    await resumed.trainer.run(NO_ESTIMATE, resumed=True)
    return {"fresh": fresh_calls, "before_stop": first_calls, "after_resume": gateways[-1].totals.calls,
            "resume_cache_hits": gateways[-1].totals.cache_hits}


async def main() -> None:
    load_litellm()
    offline_models.register_demo_models()
    with LocalOpenAIServer() as server, tempfile.TemporaryDirectory() as tmp:
        server.latency = LATENCY_S
        server.responder = demo_responder
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        result = await overhead(server, Path(tmp) / "overhead")
        print(f"trainer overhead (demo, 1 epoch, concurrency 8, {LATENCY_S * 1000:.0f} ms replies): "
              f"wall {result['wall_s']:.2f} s, model busy {result['model_busy_s']:.2f} s, "
              f"overhead {result['overhead_s']:.2f} s = {result['overhead_pct']:.1f} % of wall time "
              f"({result['calls']:.0f} calls, {result['accepted']:.0f} accepted step(s), "
              f"test {result['test_baseline']:.2f} -> {result['test_final']:.2f})")
        for concurrency in (1, 8, 32):
            rate = await rollouts_per_second(server, Path(tmp), concurrency)
            print(f"rollouts/s at concurrency {concurrency:>2}: {rate:6.1f}  (ideal {concurrency / LATENCY_S:.0f})")
        calls = await resume_calls(server, Path(tmp) / "resume")
        print(f"provider calls: fresh run {calls['fresh']}; stopped run {calls['before_stop']} + resumed "
              f"{calls['after_resume']} = {calls['before_stop'] + calls['after_resume']} "
              f"(resume served {calls['resume_cache_hits']} from the run's cache)")


if __name__ == "__main__":
    asyncio.run(main())
