"""MCP startup and call overhead: time from registry start to the first callable tool with three stdio servers,
how long the event loop is blocked meanwhile, one tool call round trip against a direct call of the same function,
and the app's first frame with and without three stdio servers configured (the servers must not delay it).

Run from the project root: `/work/venv/bin/python bench/mcp_startup.py [--calls 300] [--frames 5]`
(the first-frame part needs tmux; `--frames 0` skips it).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mimo_tui.agent.mcp import READY, McpServerConfig, McpServers  # noqa: E402
from mimo_tui.agent.tools.base import ToolContext  # noqa: E402

DEMO = ROOT / "tests" / "mcp_servers" / "demo_server.py"
TIME_SERVER = Path(sys.executable).parent / "mcp-server-time"


class LoopLag:
    """The longest gap between ticks of a 5 ms timer: how long the event loop (a UI's frames) was blocked."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - 0.005)
            last = now

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def startup() -> McpServers:
    servers = McpServers(
        [
            McpServerConfig("demo", "stdio", "bench", command=sys.executable, args=(str(DEMO),)),
            McpServerConfig("demo2", "stdio", "bench", command=sys.executable, args=(str(DEMO),)),
            McpServerConfig("clock", "stdio", "bench", command=str(TIME_SERVER)),
        ],
        startup_timeout_s=30,
    )
    ready_at: dict[str, float] = {}
    spawned_at: list[float] = []
    servers.subscribe(lambda e: spawned_at.append(time.perf_counter()) if e.status.state == "starting" else None)
    servers.subscribe(lambda e: ready_at.setdefault(e.status.name, time.perf_counter()) if e.status.state == READY else None)
    lag = LoopLag()
    lag.start()
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    servers.start_all()
    returned = time.perf_counter() - started
    while not ready_at:
        await asyncio.sleep(0.001)
    first = min(ready_at.values()) - started
    tool = servers.tools()[0]
    call_started = time.perf_counter()
    await tool.run({"timezone": "UTC"} if tool.server == "clock" else _args_for(tool.tool), ToolContext(ROOT, "bench"))
    call_took = time.perf_counter() - call_started
    first_call = time.perf_counter() - started
    await servers.wait_started(timeout=60)
    lag.stop()
    every = max(ready_at.values()) - started
    print("startup with three stdio servers (demo, demo2: FastMCP demo; clock: mcp-server-time)")
    print(f"  start_all() returned after      {returned * 1000:8.2f} ms")
    print(f"  SDK imported (in a thread), servers spawned after {(spawned_at[0] - started) * 1000:.1f} ms")
    print(f"  first tool callable after       {first * 1000:8.1f} ms ({min(ready_at, key=ready_at.get)})")
    print(f"  first tool call answered after  {first_call * 1000:8.1f} ms (the call itself {call_took * 1000:.1f} ms)")
    print(f"  all three ready after           {every * 1000:8.1f} ms")
    print(f"  worst event-loop stall meanwhile {lag.worst * 1000:7.1f} ms (the UI's frames are not held up by more)")
    for name, at in sorted(ready_at.items(), key=lambda item: item[1]):
        print(f"    {name:<6} ready at {(at - started) * 1000:8.1f} ms")
    return servers


def _args_for(tool: str) -> dict[str, object]:
    return {"echo": {"text": "x"}, "add": {"a": 1, "b": 2}}.get(tool, {"text": "x"})


async def round_trips(servers: McpServers, label: str, prefix: str, calls: int) -> None:
    spec = importlib.util.spec_from_file_location("demo_server", DEMO)
    assert spec and spec.loader
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    tool = servers.tool(f"mcp__{prefix}__add")
    assert tool is not None
    ctx = ToolContext(ROOT, "bench")
    for _ in range(20):
        await tool.run({"a": 1, "b": 2}, ctx)
    samples = []
    for index in range(calls):
        started = time.perf_counter()
        result = await tool.run({"a": index, "b": 1}, ctx)
        samples.append(time.perf_counter() - started)
        assert result.content == str(index + 1), result.content
    direct = []
    for index in range(calls):
        started = time.perf_counter()
        demo.add(index, 1)
        direct.append(time.perf_counter() - started)
    median, mean = statistics.median(samples), statistics.fmean(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95)]
    print(f"{label}: one call of add(a, b), {calls} calls")
    print(f"  MCP round trip   median {median * 1000:7.3f} ms  mean {mean * 1000:7.3f} ms  p95 {p95 * 1000:7.3f} ms")
    print(f"  direct call      median {statistics.median(direct) * 1e6:7.3f} us")
    print(f"  overhead per call ~{(median - statistics.median(direct)) * 1000:.3f} ms")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def http_round_trips(calls: int) -> None:
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(DEMO), "http", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                await asyncio.sleep(0.05)
        servers = McpServers([McpServerConfig("web", "http", "bench", url=f"http://127.0.0.1:{port}/mcp")])
        servers.start_all()
        await servers.wait_started(timeout=30)
        await round_trips(servers, "streamable HTTP (127.0.0.1)", "web", calls)
        await servers.stop_all()
    finally:
        process.terminate()
        process.wait(10)


async def main(calls: int) -> None:
    servers = await startup()
    print()
    await round_trips(servers, "stdio", "demo", calls)
    stop_started = time.perf_counter()
    await servers.stop_all()
    print(f"stop_all() of three servers: {(time.perf_counter() - stop_started) * 1000:.0f} ms")
    print()
    await http_round_trips(calls)


def three_servers_config(tag: str) -> str:
    """`[mcp.servers]` for the demo server twice and mcp-server-time, the demo ones marked with `tag`."""
    demo = json.dumps([str(DEMO), "stdio", tag])
    python = json.dumps(sys.executable)
    return (
        f"[mcp.servers.demo]\ncommand = {python}\nargs = {demo}\n\n"
        f"[mcp.servers.demo2]\ncommand = {python}\nargs = {demo}\n\n"
        f"[mcp.servers.clock]\ncommand = {json.dumps(str(TIME_SERVER))}\n"
    )


def leftover(tag: str) -> int:
    """Server processes still running with `tag` in their command line."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag.encode() in (entry / "cmdline").read_bytes():
                count += 1
        except OSError:
            continue
    return count


def first_frames(runs: int, warm_up: bool = True) -> None:
    """The app's start-to-first-frame in a tmux pane, median of `runs` interleaved launches without and with servers
    (after a warm-up launch of each unless `warm_up` is false)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from startup_frame import MIMO_READY, PYTHON, Terminal, fresh_project, isolated_env

    base = Path(tempfile.mkdtemp(prefix="mimo-bench-mcp-frame-"))
    terminal = Terminal()
    tag = f"mimo-bench-{uuid.uuid4().hex[:8]}"
    timings: dict[bool, list[float]] = {False: [], True: []}
    try:
        for index in range(0 if warm_up else 1, runs + 1):  # launch 0 warms the disk cache and bytecode
            order = (False, True) if index % 2 else (True, False)
            for with_servers in order:
                number = index * 2 + with_servers
                home = base / f"home{number}"
                home.mkdir()
                env = isolated_env(home)
                project = fresh_project(base, number, env, existing=True)
                if with_servers:
                    (project / ".mimo" / "config.toml").write_text(three_servers_config(tag))
                seconds, _ = terminal.time_to_frame(f"{shlex.quote(PYTHON)} -m mimo_tui", MIMO_READY, project, env)
                if index:
                    timings[with_servers].append(seconds)
    finally:
        terminal.close()
        shutil.rmtree(base, ignore_errors=True)
    # A server whose app was killed sees its stdin close and exits: count what is left after 2 s (none can start
    # meanwhile, so the count can only fall: stop looking once it is 0).
    deadline = time.monotonic() + 2.0
    while leftover(tag) and time.monotonic() < deadline:
        time.sleep(0.05)
    without, with_ = statistics.median(timings[False]), statistics.median(timings[True])
    print(f"first frame not delayed by three configured stdio servers (120x40 tmux pane, median of {runs} interleaved launches)")
    print(f"  no MCP servers       {without * 1000:7.0f} ms   runs: {', '.join(f'{x * 1000:.0f}' for x in timings[False])}")
    print(f"  three stdio servers  {with_ * 1000:7.0f} ms   runs: {', '.join(f'{x * 1000:.0f}' for x in timings[True])}")
    print(f"  difference           {(with_ - without) * 1000:+7.0f} ms (the servers start after the first frame, in the background)")
    print(f"  server processes left 2 s after the apps' terminals were killed: {leftover(tag)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--frames", type=int, default=5, help="launches of the app per variant for the first-frame check (0 skips)")
    parser.add_argument("--tiny", action="store_true",
                        help="20 calls, one launch per variant and no warm-up launch (the test suite's run)")
    options = parser.parse_args()
    if options.tiny:
        options.calls, options.frames = 20, 1
    asyncio.run(main(options.calls))
    if options.frames > 0:
        print()
        if shutil.which("tmux") is None:
            print("first-frame check skipped: tmux is needed")
        else:
            first_frames(options.frames, warm_up=not options.tiny)
