"""Render throughput of a streamed 20,000-token answer in the real chat pane, and key-press latency meanwhile.

Per answer (ordinary markdown, and code-dense markdown):

- render only: the answer's deltas (one per token) fed straight to the chat pane's agent-event
  subscriber as fast as the loop takes them (no HTTP, no litellm): the renderer's own throughput.
- transport only, per chunk size: the local OpenAI-compatible server (its own process) streams the
  answer over HTTP through litellm, the model gateway and the agent loop, with no UI: the ceiling the
  transport sets. At about one token per chunk it is litellm's per-chunk handling (~0.3 ms a chunk here).
- end to end, per chunk size: the same stream into the chat pane of the real workbench app running
  headless (120x40), through the model worker as in real use. Tokens/s = answer tokens / (first streamed delta .. last block rendered, including
  the final full re-render); also printed as a share of the transport-only figure.

Chunk sizes: 4 characters (about one token, as OpenAI streams) and 16 (about four, as providers that
send text deltas do), by default.

While streaming, a key press ("x" into the prompt) is simulated every 100 ms in-process and its latency
measured from the press until the prompt's value changed: the key was handled on the app's event loop, but
not yet drawn. It is printed as "keys in-process" and is not what a user sees.

Key echo on a real terminal screen (bench/key_echo.py), per answer: the real `mimo` in a private tmux
server (120x40) against the same local server streams the answer (paced over --echo-stream-s, default
10 s); a key is sent with `tmux send-keys` every ~100 ms while it streams and timed until
`tmux capture-pane -p` shows it (then Backspace, timed the same way); the same measure on a bare Textual
app with one Input, in the same run, is the reference.

With --elia PYTHON the same answer is streamed from the same server into elia-chat (Textual + litellm;
install it apart: python -m venv /tmp/elia && /tmp/elia/bin/pip install elia-chat), headless at the same
size, and its tokens/s measured the same way (first streamed character to last one shown); elia re-renders
the whole reply per chunk and gets slower as it grows, so it is capped (--elia-cap-s) and what it showed by
then is counted, which flatters it.

Run: python bench/stream_render.py [--tokens 20000] [--chunk-chars 4,16] [--elia /tmp/elia/bin/python] [--echo-only] [--tiny]
(from the repo root; --tiny: a 300-token ordinary answer, 16 chars/chunk, 4 echo presses: a smoke run)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# MIMO_BENCH_ROOT=/other/checkout measures another source tree (e.g. the code before a change).
sys.path.insert(0, os.environ.get("MIMO_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from key_echo import key_echo  # noqa: E402
from mimo_tui.llm import count_tokens  # noqa: E402

LAST_WORDS = "That is the whole answer."
FIRST_WORDS = {"ordinary": "Section 1", "code-dense": "def handle"}

KEY_INTERVAL_S = 0.1


def ordinary_markdown(tokens: int) -> str:
    """Prose with headings, emphasis and the odd short list, about `tokens` tokens long."""
    paragraph = (
        "The parser reads the input once and keeps a small **stack** of open nodes; each closing token pops "
        "one and attaches it to its parent, so the tree is built in a single pass without backtracking. "
        "Errors carry the line and column where they were found, and `recover()` skips to the next statement.\n\n"
    )
    parts, total, section = [], 0, 0
    while total < tokens:
        if section % 6 == 0:
            parts.append(f"## Section {section // 6 + 1}\n\n")
        piece = paragraph if section % 5 else "- first point about the design\n- second point, with *emphasis*\n\n"
        parts.append(piece)
        total += count_tokens(piece) + (4 if section % 6 == 0 else 0)
        section += 1
    return "".join(parts)


def code_dense_markdown(tokens: int) -> str:
    """Mostly fenced code blocks and list items (each one a widget in a naive renderer)."""
    block = (
        "```python\ndef handle(request: Request) -> Response:\n    user = authenticate(request.headers)\n"
        "    if user is None:\n        return Response(status=401)\n    return render(user, request.path)\n```\n\n"
        "1. check the token\n2. load the user\n3. render the page\n\n"
    )
    parts, total = [], 0
    while total < tokens:
        parts.append(block)
        total += count_tokens(block)
    return "".join(parts)


def split_tokens(text: str) -> list[str]:
    """The answer as one piece per token, the way a provider streams it."""
    from mimo_tui.llm.tokens import _encoding, encoding_name_for

    encoding = _encoding(encoding_name_for(None))
    return [encoding.decode([token]) for token in encoding.encode_ordinary(text)]


async def measure_keys(app, stop: asyncio.Event, latencies: list[float]) -> None:
    prompt = app.query_one("#prompt")
    while not stop.is_set():
        await asyncio.sleep(KEY_INTERVAL_S)
        before = prompt.value
        started = time.perf_counter()
        app.simulate_key("x")
        while prompt.value == before:
            await asyncio.sleep(0)
            if time.perf_counter() - started > 5:
                break
        latencies.append(time.perf_counter() - started)


SERVER_SCRIPT = """
import socketserver, sys, time
sys.path.insert(0, sys.argv[1])
# The key-echo run closes mimo's window while the answer may still stream: a reset connection is expected.
socketserver.BaseServer.handle_error = lambda self, request, client_address: None
from tests.fixtures.openai_server import LocalOpenAIServer, Reply
answer = open(sys.argv[2], encoding="utf-8").read()
server = LocalOpenAIServer().start()
server.responder = lambda body: Reply(text=answer, chunk_size=int(sys.argv[3]), chunk_delay=float(sys.argv[4]))
print(server.base_url, flush=True)
sys.stdin.read()
server.stop()
"""


class ServerProcess:
    """The local OpenAI-compatible server in its own process, so it does not share the app's GIL."""

    def __init__(self, answer: str, folder: Path, chunk_chars: int, chunk_delay_s: float = 0.0) -> None:
        import subprocess

        answer_file = folder / "answer.md"
        answer_file.write_text(answer, encoding="utf-8")
        root = str(Path(__file__).resolve().parent.parent)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER_SCRIPT, root, str(answer_file), str(chunk_chars), str(chunk_delay_s)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


async def run_end_to_end(answer: str, project: Path) -> dict[str, float]:
    from mimo_tui.agent import events as ev
    from mimo_tui.ui.app import MimoApp

    app = MimoApp(start_dir=project, watch=False)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#chat-pane")
        # A local server's unpriced model needs no litellm: nothing waits for its import (the worker is not asked).
        while pane.agent is None:
            await pilot.pause(0.05)
        first: list[float] = []
        subscriber = pane.agent.subscriber

        cpu: list[float] = []

        def timing(event) -> None:
            if isinstance(event, ev.TextDeltaEvent) and not first:
                first.append(time.perf_counter())
                cpu.append(time.process_time())
            subscriber(event)

        pane.agent.subscriber = timing
        stop = asyncio.Event()
        keys = asyncio.create_task(measure_keys(app, stop, latencies))
        prompt = app.query_one("#prompt")
        prompt.value = "write it all"
        await pilot.press("enter")
        while pane.agent.is_running or not pane.stream.idle:
            await asyncio.sleep(0.002)
        done = time.perf_counter()
        ui_cpu = time.process_time() - cpu[0]
        stop.set()
        keys.cancel()
        await pilot.pause()
        rendered = sum(len(block.source) for block in app.query("AssistantMessage"))
    tokens = count_tokens(answer)
    return {"tokens": tokens, "seconds": done - first[0], "tokens_per_s": tokens / (done - first[0]),
            "rendered_chars": rendered, "answer_chars": len(answer), "ui_cpu_s": ui_cpu, **key_stats(latencies)}


async def run_render_only(answer: str, project: Path) -> dict[str, float]:
    from mimo_tui.agent import events as ev
    from mimo_tui.ui.app import MimoApp

    pieces = split_tokens(answer)
    app = MimoApp(start_dir=project, watch=False)
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#chat-pane")
        while pane.agent is None:
            await pilot.pause(0.05)
        stop = asyncio.Event()
        keys = asyncio.create_task(measure_keys(app, stop, latencies))
        started = time.perf_counter()
        for index, piece in enumerate(pieces):
            pane.stream.push(ev.TextDeltaEvent(1, piece))
            if index % 8 == 0:  # a provider's chunks arrive spread out; yield to the loop like a socket read would
                await asyncio.sleep(0)
        pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
        while not pane.stream.idle:
            await asyncio.sleep(0.002)
        done = time.perf_counter()
        stop.set()
        keys.cancel()
        await pilot.pause()
    tokens = len(pieces)
    return {"tokens": tokens, "seconds": done - started, "tokens_per_s": tokens / (done - started), **key_stats(latencies)}


async def run_transport_only(answer: str, project: Path) -> dict[str, float]:
    """The same request through litellm's in-process gateway and the agent loop, no UI: the ceiling litellm's
    transport sets (the issue's reference; the workbench itself streams through the model worker)."""
    from mimo_tui.agent import events as ev
    from mimo_tui.agent.setup import AgentServices, open_agent_session
    from mimo_tui.llm import Gateway
    from mimo_tui.project import Project

    services = AgentServices.open(Project.open(project))
    gateway = Gateway()
    await gateway.warm_up()
    first: list[float] = []

    def subscriber(event: object) -> None:
        if isinstance(event, ev.TextDeltaEvent) and not first:
            first.append(time.perf_counter())

    agent = open_agent_session(services, subscriber, gateway)
    await agent.run_turn("write it all")
    done = time.perf_counter()
    services.close()
    tokens = count_tokens(answer)
    return {"tokens": tokens, "seconds": done - first[0], "tokens_per_s": tokens / (done - first[0])}


def key_stats(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"key_presses": 0}
    ordered = sorted(latencies)
    return {
        "key_presses": len(ordered),
        "key_median_ms": statistics.median(ordered) * 1000,
        "key_p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000,
        "key_max_ms": ordered[-1] * 1000,
    }


def make_project(folder: Path, base_url: str) -> Path:
    project = folder / "proj"
    (project / ".mimo").mkdir(parents=True)
    (project / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "bench"\n\n[models.bench]\nmodel = "openai/bench"\napi_base = "{base_url}"\napi_key = "env:MIMO_BENCH_KEY"\n'
    )
    os.environ["MIMO_BENCH_KEY"] = "sk-bench"
    return project


def show(label: str, result: dict[str, float]) -> None:
    keys = (
        f"keys in-process (value changed, not drawn): {result['key_presses']} presses, median {result['key_median_ms']:.1f} ms, p95 {result['key_p95_ms']:.1f} ms, "
        f"max {result['key_max_ms']:.1f} ms" if result.get("key_presses") else "keys in-process: none measured"
    )
    print(f"{label:<40} {result['tokens']:>6} tokens in {result['seconds']:6.2f} s = {result['tokens_per_s']:8.0f} tokens/s   {keys}")
    if "ui_cpu_s" in result:
        share = result["ui_cpu_s"] / result["seconds"]
        print(f"{'':<40} UI-process CPU while streaming: {result['ui_cpu_s']:.2f} s ({share:.0%} of one core)")


def run_elia(python: str, base_url: str, answer: str, cap_s: float) -> dict[str, float]:
    """The same answer streamed into elia-chat (its own venv), capped at `cap_s` seconds of streaming."""
    import json
    import subprocess

    script = Path(__file__).resolve().parent / "elia_stream.py"
    out = subprocess.run([python, str(script), base_url, str(cap_s)], capture_output=True, text=True, timeout=cap_s + 180)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"elia run failed: {out.stderr.strip()[-500:]}")
    record = json.loads(lines[-1])
    if "error" in record:
        raise RuntimeError(record["error"])
    tokens = count_tokens(answer[: record["chars"]])
    return {"tokens": tokens, "seconds": record["seconds"], "tokens_per_s": tokens / record["seconds"],
            "finished": record["finished"]}


async def main_async(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        for name, make in (("ordinary", ordinary_markdown), ("code-dense", code_dense_markdown)):
            if name not in args.kinds:
                continue
            answer = make(args.tokens) + f"\n\n{LAST_WORDS}\n"
            if not args.echo_only:
                results[f"{name} render-only"] = await run_render_only(answer, Path(tmp) / f"{name}-render")
                show(f"{name}, render only", results[f"{name} render-only"])
            for chunk_chars in [] if args.echo_only else args.chunk_chars:
                server = ServerProcess(answer, Path(tmp), chunk_chars)
                try:
                    project = make_project(Path(tmp) / f"{name}-{chunk_chars}", server.base_url)
                    key = f"{name} {chunk_chars}"
                    results[f"{key} transport-only"] = transport = await run_transport_only(answer, project)
                    show(f"{name}, {chunk_chars} chars/chunk, litellm transport only", transport)
                    results[f"{key} end-to-end"] = end_to_end = await run_end_to_end(answer, project)
                    show(f"{name}, {chunk_chars} chars/chunk, end to end", end_to_end)
                    share = end_to_end["tokens_per_s"] / transport["tokens_per_s"]
                    print(f"{'':<40} end to end = {share:.0%} of what litellm's transport alone delivers")
                    if args.elia:
                        elia = run_elia(args.elia, server.base_url, answer, args.elia_cap_s)
                        results[f"{key} elia"] = elia
                        done = "whole answer" if elia["finished"] else f"first part only (capped at {args.elia_cap_s:g} s)"
                        show(f"{name}, {chunk_chars} chars/chunk, elia-chat ({done})", elia)
                        ratio = end_to_end["tokens_per_s"] / elia["tokens_per_s"]
                        print(f"{'':<40} mimo end to end / elia = {ratio:.0f}x")
                finally:
                    server.close()
            show_echo(name, answer, args)
    return results


def show_echo(name: str, answer: str, args: argparse.Namespace) -> None:
    """Key echo on a real terminal screen while mimo streams this answer, beside a bare Textual Input."""
    chunk_chars = args.chunk_chars[0]
    chunks = len(answer) / chunk_chars
    server = ServerProcess(answer, Path(tempfile.mkdtemp(prefix="mimo-bench-echo-server-")), chunk_chars,
                           args.echo_stream_s / chunks)
    try:
        measured = key_echo(server.base_url, answer, FIRST_WORDS[name], LAST_WORDS, args.echo_presses)
    finally:
        server.close()
    if isinstance(measured, str):
        print(measured)
        return
    mimo, reference = measured
    print(f"key echo on a real terminal screen (tmux 120x40, send-keys -> capture-pane shows it), {name}, "
          f"{chunk_chars} chars/chunk:")
    print(mimo.line("  mimo, while the answer streams"))
    print(reference.line("  reference: bare Textual Input, idle"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--chunk-chars", type=lambda text: [int(part) for part in text.split(",")], default=[4, 16],
                        help="characters per SSE chunk from the server, comma-separated (4 ~ one token, as OpenAI "
                             "streams; 16 ~ four, as providers that send text deltas do); default 4,16")
    parser.add_argument("--kinds", type=lambda text: text.split(","), default=["ordinary", "code-dense"],
                        help="answers to stream, comma-separated: ordinary,code-dense (default both)")
    parser.add_argument("--elia", metavar="PYTHON", help="python of a venv with elia-chat installed, for a side-by-side run")
    parser.add_argument("--elia-cap-s", type=float, default=60.0, help="stop measuring elia after this many seconds of streaming")
    parser.add_argument("--echo-presses", type=int, default=100,
                        help="most key presses (type + backspace count as two) timed on the tmux screen per answer")
    parser.add_argument("--echo-stream-s", type=float, default=10.0,
                        help="spread the echo run's stream over about this many seconds (default 10, still faster than "
                             "any provider, so ~100 presses land while it streams; 0: full speed, a few presses)")
    parser.add_argument("--echo-only", action="store_true",
                        help="only the key echo on a real terminal screen (no headless render or transport figures)")
    parser.add_argument("--tiny", action="store_true",
                        help="smoke run: 300-token ordinary answer, 16 chars/chunk, 4 echo presses over a 3 s stream")
    args = parser.parse_args()
    if args.tiny:
        args.tokens, args.kinds, args.chunk_chars, args.echo_presses = 300, ["ordinary"], [16], 4
        args.echo_stream_s = 3.0
    print(f"streamed answer of ~{args.tokens} tokens into the mimo chat pane (headless, 120x40), target >= 5,000 tokens/s, keys < 50 ms")
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
