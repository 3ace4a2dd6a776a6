"""Stream one answer from a local OpenAI-compatible server into elia-chat, headless, and report how fast it renders.

Runs inside elia's own virtualenv (`/tmp/elia/bin/python bench/elia_stream.py BASE_URL SECONDS`); started by
`bench/stream_render.py --elia PYTHON`. Prints one JSON line: characters rendered, seconds from the first
streamed character to the last one shown (or to the time cap), and whether the answer finished.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time


async def measure(base_url: str, cap_s: float) -> dict[str, object]:
    from elia_chat.app import Elia
    from elia_chat.config import EliaChatModel, LaunchConfig
    from elia_chat.database.database import create_database
    from elia_chat.widgets.chatbox import Chatbox

    await create_database()
    model = EliaChatModel(name="openai/bench", id="bench", api_base=base_url, api_key="sk-bench", temperature=0.0)
    app = Elia(LaunchConfig(default_model="bench", models=[model]), startup_prompt="write it all")
    async with app.run_test(size=(120, 40)) as pilot:
        first = None
        deadline = time.perf_counter() + 120
        box = None
        while time.perf_counter() < deadline:
            boxes = [b for b in app.query(Chatbox) if b.has_class("response-in-progress")]
            if boxes and boxes[0].message.message.get("content"):
                box = boxes[0]
                first = time.perf_counter()
                break
            await pilot.pause(0.01)
        if box is None or first is None:
            return {"error": "elia never started streaming"}
        finished = False
        while time.perf_counter() - first < cap_s:
            if not box.has_class("response-in-progress"):
                finished = True
                break
            await pilot.pause(0.05)
        seconds = time.perf_counter() - first
        chars = len(box.message.message.get("content") or "")
        app.exit()
    return {"chars": chars, "seconds": seconds, "finished": finished}


def main() -> int:
    base_url, cap_s = sys.argv[1], float(sys.argv[2])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_DATA_HOME"] = os.path.join(tmp, "data")
        os.environ["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        result = asyncio.run(measure(base_url, cap_s))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
