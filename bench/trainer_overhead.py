"""Trainer benchmark against the local OpenAI-compatible server (its own process, 100 ms per reply).

Measures: the trainer's CPU per model call (process CPU time of the whole bench process during the run:
trainer, gateway, litellm, everything but the server, which runs in its own process) beside a raw HTTP
client (httpx) sending the same requests (the messages the trainer sent, recorded) to the same server at
the same concurrency in the same run; wall time against time with a call in flight; rollouts per second at
gateway concurrency 1, 8 and 32; and the provider calls of a stopped-then-resumed run against a fresh one.
Run from the repository root: `python bench/trainer_overhead.py [--tiny]` (--tiny: 5 ms replies, the first 24/10/10
train/val/test items, the CPU per call figures only: a smoke run that checks the bench still works, its figures mean little).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
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
from tests.fixtures.openai_server import Reply  # noqa: E402

LATENCY_S = 0.1
SERVER_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/bench")
from tests.fixtures.openai_server import LocalOpenAIServer
from trainer_overhead import demo_responder
server = LocalOpenAIServer().start()
server.latency = float(sys.argv[2])
server.responder = demo_responder
print(server.base_url, flush=True)
sys.stdin.read()
server.stop()
"""


class ServerProcess:
    """The demo's server in its own process, so its CPU is not counted as the trainer's."""

    def __init__(self, latency_s: float) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        self.process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, root, str(latency_s)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url:
            raise RuntimeError("the local OpenAI-compatible server process did not start")

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
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
        self.requests: list[list[dict]] = []

    async def complete(self, spec: ModelSpec, messages: list[dict], tools: list[dict] | None = None, **kw: Any) -> Completion:
        self.requests.append(messages)
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


TINY_SPLITS = {"train": 24, "val": 10, "test": 10}


def project_in(folder: Path, tiny: bool = False) -> tuple[Project, Any]:
    (folder / "proj").mkdir(parents=True)
    if tiny:  # a project copy of the skill with the first few items of each split: far fewer calls
        shipped = Path(__file__).resolve().parent.parent / "skills" / "date-normalizer"
        copy = folder / "proj" / ".mimo" / "skills" / "date-normalizer"
        shutil.copytree(shipped, copy)
        for split, count in TINY_SPLITS.items():
            lines = (copy / "eval" / f"{split}.jsonl").read_text().splitlines(keepends=True)
            (copy / "eval" / f"{split}.jsonl").write_text("".join(lines[:count]))
    project = Project.open(folder / "proj")
    entry = next(e for e in find_skills(project.root) if e.name == "date-normalizer")
    return project, entry


def server_models(server: ServerProcess) -> dict[str, Any]:
    endpoint = {"model": "openai/test", "api_base": server.base_url, "api_key": "sk-test"}
    return {"bench-target": endpoint, "bench-optimizer": endpoint}


def factory(concurrency: int, gateways: list[TimedGateway]):
    def build(cache: ResponseCache) -> Gateway:
        gateway = TimedGateway(max_concurrency=concurrency, max_retries=2, timeout_s=30, cache=cache)
        gateways.append(gateway)
        return gateway

    return build


async def overhead(server: ServerProcess, folder: Path, tiny: bool = False) -> dict[str, float]:
    project, entry = project_in(folder, tiny)
    gateways: list[TimedGateway] = []
    config = TrainConfig(skill="date-normalizer", target="bench-target", optimizer="bench-optimizer", epochs=1)
    prepared = new_run(config, project.store, project.workspace.runs_dir, entry, server_models(server), factory(8, gateways))
    await prepared.trainer.gateway.warm_up()
    started, cpu = time.perf_counter(), time.process_time()
    summary = await prepared.trainer.run(NO_ESTIMATE)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    model = busy_time(gateways[0].intervals)
    return {"wall_s": wall, "model_busy_s": model, "overhead_s": wall - model, "overhead_pct": 100 * (wall - model) / wall,
            "cpu_s": cpu, "requests": gateways[0].requests,
            "calls": gateways[0].totals.calls, "accepted": len(summary["accepted_steps"]),
            "test_baseline": summary["test"]["baseline"]["score"], "test_final": summary["test"]["final"]["score"]}


def provider_requests(requests: list[list[dict]], calls: int) -> list[list[dict]]:
    """The trainer's requests without the repeats its cache answered, `calls` of them (what reached the server)."""
    unique = list({json.dumps(messages, sort_keys=True): messages for messages in requests}.values())
    return (unique * (calls // max(1, len(unique)) + 1))[:calls]


async def raw_client(server: ServerProcess, requests: list[list[dict]], concurrency: int) -> dict[str, float]:
    """The same requests sent with a plain httpx client at the same concurrency: the floor for CPU per call."""
    import httpx

    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=server.base_url, headers={"Authorization": "Bearer sk-test"}, timeout=30) as client:
        async def call(messages: list[dict]) -> str:
            async with limit:
                response = await client.post("/chat/completions", json={"model": "test", "messages": messages})
                response.raise_for_status()
                return response.json()["choices"][0]["message"]["content"]

        await call(requests[0])  # connect once, as the trainer's gateway warmed up before its clock started
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(call(messages) for messages in requests))
        return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu, "calls": len(requests)}


async def rollouts_per_second(server: ServerProcess, folder: Path, concurrency: int) -> float:
    entry = next(e for e in find_skills(folder) if e.name == "date-normalizer")
    splits = load_splits(entry.eval_dir)
    tasks = (splits.train + splits.test)[: max(16, min(128, concurrency * 4))]
    run = RunFolder(folder / f"rollouts-{concurrency}")
    run.path.mkdir(parents=True)
    gateway = Gateway(max_concurrency=concurrency, max_retries=2, timeout_s=30, cache=ResponseCache(run.cache_dir))
    await gateway.warm_up()
    spec = ModelSpec("openai/test", api_base=server.base_url, api_key="sk-test")
    trainer = Trainer(TrainConfig(skill="date-normalizer"), splits, run, gateway, spec, spec)
    skill = (entry.folder / "SKILL.md").read_text()
    started = time.perf_counter()
    await trainer.rollout(skill, tasks, "bench")
    return len(tasks) / (time.perf_counter() - started)


async def resume_calls(server: ServerProcess, folder: Path) -> dict[str, int]:
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


async def main(tiny: bool) -> None:
    latency = 0.005 if tiny else LATENCY_S
    load_litellm()
    offline_models.register_demo_models()
    server = ServerProcess(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
            result = await overhead(server, Path(tmp) / "overhead", tiny)
            calls = result["calls"]
            raw = await raw_client(server, provider_requests(result["requests"], int(calls)), 8)
            print(f"trainer run (demo, 1 epoch, concurrency 8, {latency * 1000:.0f} ms replies, server in its own process): "
                  f"{calls:.0f} calls, {result['accepted']:.0f} accepted step(s), "
                  f"test {result['test_baseline']:.2f} -> {result['test_final']:.2f}")
            trainer_ms = 1000 * result["cpu_s"] / calls
            raw_ms = 1000 * raw["cpu_s"] / raw["calls"]
            print(f"  trainer CPU per call     {trainer_ms:7.2f} ms   (process CPU {result['cpu_s']:.2f} s over {calls:.0f} calls: "
                  f"trainer + gateway + litellm)")
            print(f"  raw client CPU per call  {raw_ms:7.2f} ms   (httpx, the same {raw['calls']:.0f} requests, same server, "
                  f"concurrency 8, process CPU {raw['cpu_s']:.2f} s)")
            print(f"  trainer / raw client CPU per call: {trainer_ms / raw_ms if raw_ms else float('inf'):.1f} x")
            print(f"  wall: trainer {result['wall_s']:.2f} s (a call in flight {result['model_busy_s']:.2f} s, none "
                  f"{result['overhead_s']:.2f} s = {result['overhead_pct']:.1f} %), raw client {raw['wall_s']:.2f} s")
            if tiny:
                return
            for concurrency in (1, 8, 32):
                rate = await rollouts_per_second(server, Path(tmp), concurrency)
                print(f"rollouts/s at concurrency {concurrency:>2}: {rate:6.1f}  (ideal {concurrency / latency:.0f})")
            calls_seen = await resume_calls(server, Path(tmp) / "resume")
            print(f"provider calls: fresh run {calls_seen['fresh']}; stopped run {calls_seen['before_stop']} + resumed "
                  f"{calls_seen['after_resume']} = {calls_seen['before_stop'] + calls_seen['after_resume']} "
                  f"(resume served {calls_seen['resume_cache_hits']} from the run's cache)")
    finally:
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a quick smoke run (5 ms replies, 24/10/10 items, CPU per call only)")
    asyncio.run(main(parser.parse_args().tiny))
