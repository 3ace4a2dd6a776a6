"""Long-session benchmark: a 300-step scripted session on a 32K window, mimo's checkpoints and rebuilds against a
baseline that only truncates old messages.

The model is the local OpenAI-compatible server with a scripted responder (tests/fixtures/scripted_long_session.py):
each step's answer is filler of a fixed size; its checkpoint writer keeps every `FACT-n:` line it is shown. Ten
facts are planted in user messages along the way. Figures: rebuilds, tokens sent per step (the main requests, and
with the writer's and summaries' requests added), and the share of planted facts reachable at the end (in the
last request's context, or found by memory search); the baseline (system prompt + the newest messages that fit
the usable window, same answers) is reported beside it.
Run from the repository root: `python bench/long_session.py [--tiny] [--steps N] [--answer-words N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimo_tui.agent import events as ev  # noqa: E402
from mimo_tui.agent.context_limits import limits_for  # noqa: E402
from mimo_tui.memory.tokens import count_tokens  # noqa: E402
from tests.fixtures.openai_server import LocalOpenAIServer  # noqa: E402
from tests.fixtures.scripted_long_session import LongSessionModel, kind_of  # noqa: E402

WINDOW = 32_000
ANSWER_WORDS = 220


def request_tokens(body: dict[str, Any]) -> int:
    return sum(count_tokens(m.get("content") or "") + 4 for m in body["messages"])


MEMORY_BLOCK = re.compile(r'<memory block="([a-z_]+)"[^>]*>.*?</memory>', re.S)


def breakdown(body: dict[str, Any]) -> dict[str, int]:
    """Where a request's tokens go: system prompt, each memory block, the rest of the injected message
    (reminder, resume line), the verbatim tail by role, and the tool schemas (sent beside the messages)."""
    messages = body["messages"]
    parts: dict[str, int] = {"system prompt": count_tokens(messages[0].get("content") or "") + 4}
    extra = messages[1].get("content") or "" if len(messages) > 1 and messages[1]["role"] == "system" else ""
    for match in MEMORY_BLOCK.finditer(extra):
        parts[f"memory: {match.group(1)}"] = count_tokens(match.group(0))
    rest = MEMORY_BLOCK.sub("", extra)
    parts["reminder and resume line"] = count_tokens(rest) + 4
    for message in messages[2 if extra else 1:]:
        key = f"tail: {message['role']} messages"
        parts[key] = parts.get(key, 0) + count_tokens(message.get("content") or "") + 4
    parts["tool schemas (not in the figures)"] = count_tokens(json.dumps(body.get("tools") or []))
    return parts


def planted(steps: int) -> dict[int, str]:
    """Ten facts (fewer on a tiny run), the first in step 3, spread over the session."""
    count = 10 if steps >= 100 else 3
    at = [3] + [3 + (steps - 10) * k // count for k in range(1, count)]
    return {step: f"FACT-{step}: service s{step} listens on port {40000 + step}" for step in at}


def prompt_of(step: int, facts: dict[int, str]) -> str:
    text = f"TURN-{step}: go on with step {step}"
    return f"{text}. {facts[step]}" if step in facts else text


async def run_mimo(project_root: Path, server: LocalOpenAIServer, steps: int, facts: dict[int, str]) -> dict[str, Any]:
    from mimo_tui.agent.setup import AgentServices, open_agent_session
    from mimo_tui.llm import Gateway
    from mimo_tui.project import Project

    (project_root / ".mimo").mkdir(parents=True, exist_ok=True)
    (project_root / ".mimo" / "config.toml").write_text(
        f'[model]\ndefault = "test"\ncontext_window = {WINDOW}\n\n[models.test]\nmodel = "openai/test"\n'
        f'api_base = "{server.base_url}"\n\n[llm]\nmax_retries = 1\n', encoding="utf-8")
    (project_root / ".mimo" / "secrets.toml").write_text('[models.test]\napi_key = "sk-bench"\n', encoding="utf-8")
    services = AgentServices.open(Project.open(project_root))
    events: list[Any] = []
    agent = open_agent_session(services, events.append, Gateway(max_retries=1, timeout_s=30))
    started = time.perf_counter()
    for step in range(1, steps + 1):
        status = await agent.run_turn(prompt_of(step, facts))
        if status != ev.TURN_DONE:
            raise SystemExit(f"step {step} ended {status}: {[e for e in events if isinstance(e, ev.ModelFailed)][-1:]}")
    await agent.keeper.finish(60)
    elapsed = time.perf_counter() - started
    last = [b for b in server.requests if kind_of(b) == "turn"][-1]
    context = "\n".join(m.get("content") or "" for m in last["messages"])
    reachable = 0
    for fact in facts.values():
        port = fact.rsplit(" ", 1)[-1]
        if fact in context or services.memory.search(port):
            reachable += 1
    turns = [b for b in server.requests if kind_of(b) == "turn"]
    sizes = [request_tokens(b) for b in turns]
    rebuilt = [turns[i] for i in range(1, len(turns)) if sizes[i] < sizes[i - 1]]
    result = {
        "first_after_rebuild": breakdown(rebuilt[-1]) if rebuilt else {},
        "turn_tokens": [request_tokens(b) for b in server.requests if kind_of(b) == "turn"],
        "other_tokens": sum(request_tokens(b) for b in server.requests if kind_of(b) != "turn"),
        "writer_calls": sum(1 for b in server.requests if kind_of(b) == "writer"),
        "summary_calls": sum(1 for b in server.requests if kind_of(b) == "summary"),
        "rebuilds": sum(1 for e in events if isinstance(e, ev.ContextRebuilt)),
        "reachable": reachable,
        "elapsed_s": elapsed,
        "system": last["messages"][0]["content"],
    }
    services.close()
    return result


def run_baseline(model: LongSessionModel, steps: int, facts: dict[int, str], system: str,
                 answer_words: int = ANSWER_WORDS) -> dict[str, Any]:
    """The same session, the same answers, each request the system prompt and the newest messages that fit."""
    usable = limits_for("openai/test", WINDOW).usable
    fixed = count_tokens(system) + 4
    history: list[tuple[str, int]] = []
    sent: list[int] = []
    final: list[str] = []
    for step in range(1, steps + 1):
        user = prompt_of(step, facts)
        history.append((user, count_tokens(user) + 4))
        total, kept = fixed, []
        for text, tokens in reversed(history):
            if total + tokens > usable:
                break
            total += tokens
            kept.append(text)
        sent.append(total)
        final = kept
        answer = f"Step {step} done. {model_filler(step, answer_words)}"
        history.append((answer, count_tokens(answer) + 4))
    context = "\n".join(final)
    return {"turn_tokens": sent, "reachable": sum(1 for fact in facts.values() if fact in context)}


def model_filler(step: int, answer_words: int) -> str:
    from tests.fixtures.scripted_long_session import filler

    return filler(answer_words, step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="40 steps: a smoke run that checks the bench still works")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--answer-words", type=int, default=ANSWER_WORDS, help="the size of each step's answer")
    args = parser.parse_args()
    steps = 40 if args.tiny else args.steps
    facts = planted(steps)
    model = LongSessionModel(answer_words=args.answer_words)
    with tempfile.TemporaryDirectory(prefix="mimo-long-session-") as folder:
        os.environ.setdefault("XDG_CONFIG_HOME", str(Path(folder) / "config"))
        os.environ.setdefault("XDG_DATA_HOME", str(Path(folder) / "data"))
        with LocalOpenAIServer() as server:
            server.responder = model
            server._httpd.handle_error = lambda *args: None  # type: ignore[union-attr]  # keep-alive resets are noise
            ours = asyncio.run(run_mimo(Path(folder) / "proj", server, steps, facts))
    base = run_baseline(model, steps, facts, ours["system"], args.answer_words)
    mean = sum(ours["turn_tokens"]) / steps
    mean_all = (sum(ours["turn_tokens"]) + ours["other_tokens"]) / steps
    base_mean = sum(base["turn_tokens"]) / steps
    limits = limits_for("openai/test", WINDOW)
    print(f"long session: {steps} steps, {WINDOW:,}-token window (usable {limits.usable:,}, thresholds "
          f"{', '.join(f'{t:,}' for t in limits.thresholds)}), answers of {args.answer_words} words, {len(facts)} planted facts")
    print(f"  rebuilds                         mimo {ours['rebuilds']:>8}")
    print(f"  checkpoint writer calls          mimo {ours['writer_calls']:>8}   summaries {ours['summary_calls']}")
    print(f"  tokens sent per step (requests)  mimo {mean:>8,.0f}   baseline {base_mean:>8,.0f}   "
          f"ratio {mean / base_mean:.3f} (goal <= 0.50)")
    print(f"  with writer/summary calls added  mimo {mean_all:>8,.0f}   ratio {mean_all / base_mean:.3f} "
          f"(goal <= 0.50; the calls: {mean_all - mean:,.0f} tokens a step)")
    print(f"  largest request                  mimo {max(ours['turn_tokens']):>8,}   baseline {max(base['turn_tokens']):>8,}")
    print(f"  planted facts reachable at end   mimo {ours['reachable']}/{len(facts)} "
          f"({100 * ours['reachable'] / len(facts):.0f} %)   baseline {base['reachable']}/{len(facts)} "
          f"({100 * base['reachable'] / len(facts):.0f} %)   (goal 100 %)")
    print(f"  wall time                        mimo {ours['elapsed_s']:.1f} s ({1000 * ours['elapsed_s'] / steps:.0f} ms a step, "
          "local server, scripted model)")
    if ours["first_after_rebuild"]:
        print("  the first request after the last rebuild, tokens by part:")
        for part, tokens in ours["first_after_rebuild"].items():
            print(f"    {part:<40} {tokens:>7,}")


if __name__ == "__main__":
    main()
