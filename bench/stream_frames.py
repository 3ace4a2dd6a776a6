"""What the chat's stream rendering costs the UI thread, in CPU time (so it holds on a loaded machine).

A 20k-token answer (ordinary, and code-dense markdown) is fed to the real chat pane of the workbench (headless,
120x40) in 64-character pieces paced over --seconds, as the model worker delivers it. Printed per answer: the
UI thread's CPU for the whole answer, how many screen layouts ran and their CPU (median / p95), and the loop's
stalls (a 1 ms sleep that came back late: how long a key press would have waited, in wall time).
MIMO_BENCH_ROOT=/other/checkout measures another source tree (e.g. the code before a change) the same way.

With --keys, a key is typed into the prompt every 100 ms while the answer streams (a letter, then Backspace, as
bench/key_echo.py does on a real terminal), and each is timed from its arrival at the app to the end of the screen
update that paints it: the app's own share of key echo, without tmux and a terminal (and less swayed by a loaded
machine than the real-terminal figure of bench/workbench_keys.py). The CPU figures then include the keys' work.

Run: python bench/stream_frames.py [--seconds 10] [--keys] [--tiny]   (--tiny: a 300-token answer over 1 s)
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

sys.path.insert(0, os.environ.get("MIMO_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stream_render import LAST_WORDS, code_dense_markdown, ordinary_markdown  # noqa: E402

PIECE_CHARS = 64
KEY_INTERVAL_S = 0.1


def spread(samples: list[float]) -> str:
    if not samples:
        return "none"
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:5.1f} p95 {p95 * 1000:6.1f} max {ordered[-1] * 1000:6.1f} ms"


async def measure(answer: str, seconds: float, folder: Path, keys: bool = False) -> dict[str, object]:
    from textual import events
    from textual.screen import Screen

    from mimo_tui.agent import events as ev
    from mimo_tui.ui.app import MimoApp

    layouts: list[float] = []
    original = Screen._refresh_layout

    def timed_layout(self: Screen, *args: object, **kwargs: object) -> None:
        used = time.thread_time()
        try:
            original(self, *args, **kwargs)
        finally:
            layouts.append(time.thread_time() - used)

    Screen._refresh_layout = timed_layout  # type: ignore[method-assign]  # observe only: times each layout
    typed: list[tuple[float, int]] = []  # (when a key arrived, the prompt's length once it is handled)
    echoes: list[float] = []
    painted = Screen._compositor_refresh

    def observed_paint(self: Screen) -> None:
        painted(self)
        if typed:
            shown = len(self.app.query_one("#prompt").value)
            while typed and typed[0][1] == shown:
                echoes.append(time.perf_counter() - typed.pop(0)[0])

    Screen._compositor_refresh = observed_paint  # type: ignore[method-assign]  # observe only: when keys are painted
    folder.mkdir(parents=True)
    pieces = [answer[start:start + PIECE_CHARS] for start in range(0, len(answer), PIECE_CHARS)]
    stalls: list[float] = []
    app = MimoApp(start_dir=folder, watch=False)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one("#chat-pane")
            while pane.agent is None:
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            layouts.clear()
            done = False

            async def probe() -> None:
                while not done:
                    started = time.perf_counter()
                    await asyncio.sleep(0.001)
                    stalls.append(time.perf_counter() - started - 0.001)

            prober = asyncio.create_task(probe())
            prompt = app.query_one("#prompt")
            prompt.focus()

            async def typist() -> None:
                pressed = 0
                while not done:
                    await asyncio.sleep(KEY_INTERVAL_S)
                    pressed += 1
                    letter = pressed % 2 == 1
                    typed.append((time.perf_counter(), len(prompt.value) + (1 if letter else -1)))
                    app.post_message(events.Key("Q", "Q") if letter else events.Key("backspace", None))
                    while typed and time.perf_counter() - typed[0][0] < 5:
                        await asyncio.sleep(0.002)
                    typed.clear()  # not painted within 5 s: not counted

            typing = asyncio.create_task(typist()) if keys else None
            used, started = time.thread_time(), time.perf_counter()
            gap = seconds / len(pieces)
            for index, piece in enumerate(pieces):
                pane.stream.push(ev.TextDeltaEvent(1, piece))
                await asyncio.sleep(max(0.0, started + (index + 1) * gap - time.perf_counter()))
            pane.stream.push(ev.TurnEnded(1, ev.TURN_DONE, ""))
            while not pane.stream.idle:
                await asyncio.sleep(0.002)
            await pilot.pause(0.2)
            cpu = time.thread_time() - used
            done = True
            await prober
            if typing is not None:
                await typing
    finally:
        Screen._refresh_layout = original  # type: ignore[method-assign]
        Screen._compositor_refresh = painted  # type: ignore[method-assign]
    return {"cpu": cpu, "layouts": list(layouts), "stalls": stalls, "echoes": echoes}


async def main_async(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "data")
        for name, make in (("ordinary", ordinary_markdown), ("code-dense", code_dense_markdown)):
            answer = make(args.tokens) + f"\n\n{LAST_WORDS}\n"
            result = await measure(answer, args.seconds, Path(tmp) / name, args.keys)
            layouts = result["layouts"]
            print(f"{name:<11} {len(answer):>6} chars over {args.seconds:g} s (load {os.getloadavg()[0]:.1f}): UI-thread CPU {result['cpu']:.2f} s; "
                  f"{len(layouts)} screen layouts, CPU each {spread(layouts)}")
            print(f"{'':<11} loop stalls (wall): {spread(result['stalls'])}")
            if args.keys:
                echoes = result["echoes"]
                print(f"{'':<11} {len(echoes)} keys typed meanwhile, arrival to painted (wall): {spread(echoes)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keys", action="store_true", help="type a key every 100 ms and time each until painted")
    parser.add_argument("--tiny", action="store_true", help="smoke run: a 300-token answer over 1 s")
    args = parser.parse_args()
    if args.tiny:
        args.tokens, args.seconds = 300, 1.0
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
