"""Dream's consolidation through a model: it gets MEMORY.md (after the deterministic passes) and the gathered
checkpoints, notes and progress logs, and answers with one `write_memory_file` call for MEMORY.md.

The answer is only ever read as a new MEMORY.md: a call for any other path is refused (dream's sandbox is the
memory files; it never touches project source), a reply that loses a section is refused, and what is kept goes
through the deterministic passes again, so a path the model cites that the project lacks is still marked."""

from __future__ import annotations

import asyncio
import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mimo_tui.llm import Gateway, ModelError, ModelSpec, resolve_model
from mimo_tui.maintenance.dream.engine import MEMORY, DreamPlan, DreamSettings, consolidate_text
from mimo_tui.maintenance.dream.entries import parse_lines
from mimo_tui.maintenance.dream.review import Change, DreamReview
from mimo_tui.memory.templates import PROJECT_SECTIONS
from mimo_tui.store import StoreError, VersionedStore

SOURCE_CHARS = 6000
SOURCES_CHARS = 24000
OUTPUT_TOKENS = 4000
WRITE_TOOL = {
    "type": "function",
    "function": {
        "name": "write_memory_file",
        "description": "Write the consolidated project memory. path must be MEMORY.md; content is the whole new file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
}
SYSTEM = (
    "You consolidate a coding project's memory file, MEMORY.md. You do not work on the project and you write no "
    "other file. Merge entries that say the same thing, drop entries that newer ones supersede, fold durable facts "
    "from the session checkpoints, notes and progress logs into the right section, write dates as YYYY-MM-DD, and "
    "copy literal values (paths, commands, ports, versions) byte for byte. Keep every heading and its italic "
    "instruction line. Keep `[unverified]` marks. Answer with exactly one call: write_memory_file(path='MEMORY.md', "
    "content=<the whole new file>)."
)
ModelPass = Callable[[DreamPlan, VersionedStore, Path], None]


def model_pass_for(config: Any, settings: DreamSettings, gateway: Gateway | None = None) -> ModelPass:
    """The consolidation pass for dream's model (`[dream] model`, else the default model); an offline model skips it."""
    name = settings.model or str(config.get("model.default", "offline/agent"))
    try:
        spec = resolve_model(name, config.table("models"))
    except ModelError as exc:
        return lambda plan, store, root: plan.review.notes.append(f"model pass skipped: {exc}")
    if spec.offline:
        return lambda plan, store, root: plan.review.notes.append(
            f"model pass skipped: {spec.label} is an offline model, so consolidation stopped at the deterministic "
            "passes; set [dream] model (or [model] default) to a real model to consolidate through it")

    def run(plan: DreamPlan, store: VersionedStore, root: Path) -> None:
        used = gateway or Gateway(max_retries=int(config.get("llm.max_retries", 4)),
                                  timeout_s=float(config.get("llm.timeout_s", 120.0)))
        consolidate_with_model(plan, spec, used, store, root, settings)

    return run


def prompt(plan: DreamPlan) -> list[dict[str, str]]:
    parts = [f"MEMORY.md now:\n```markdown\n{plan.after}\n```"]
    used = 0
    for source in plan.sources:
        text = source.text[:SOURCE_CHARS]
        if used + len(text) > SOURCES_CHARS:
            break
        used += len(text)
        parts.append(f"{source.kind} {source.relpath}:\n```markdown\n{text}\n```")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def consolidate_with_model(plan: DreamPlan, spec: ModelSpec, gateway: Gateway, store: VersionedStore, root: Path,
                           settings: DreamSettings) -> None:
    """Ask the model once; a usable MEMORY.md from it becomes the plan's result, the rest is refused in the review."""
    review = plan.review
    try:
        completion = asyncio.run(gateway.complete(spec, prompt(plan), [WRITE_TOOL], max_tokens=OUTPUT_TOKENS))
    except ModelError as exc:
        review.notes.append(f"model pass failed ({exc}); the deterministic passes' result stands")
        return
    review.model_calls += 1
    review.model_tokens += completion.usage.prompt_tokens + completion.usage.completion_tokens
    proposed: str | None = None
    for call in completion.tool_calls:
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            review.skipped.append(Change(f"{call.name} call", "", "its arguments are not valid JSON; ignored"))
            continue
        path = str(args.get("path", "")).strip() if isinstance(args, dict) else ""
        if call.name != "write_memory_file" or path.removeprefix("./").removeprefix(".mimo/") != MEMORY:
            review.skipped.append(Change(f"write {path or call.name}", "", _refusal(store, path)))
            continue
        proposed = str(args.get("content", ""))
    if proposed is None:
        review.notes.append("model pass: the model proposed no new MEMORY.md; the deterministic passes' result stands")
        return
    missing = [spec_.title for spec_ in PROJECT_SECTIONS if f"## {spec_.title}" not in proposed]
    if missing:
        review.skipped.append(Change("the model's MEMORY.md", "", f"refused: it drops the section(s) {', '.join(missing)}"))
        return
    checked = DreamReview()
    text = consolidate_text(proposed.rstrip("\n") + "\n" if plan.after.endswith("\n") else proposed.rstrip("\n"),
                            None, root, settings, checked)
    _record_changes(plan.after, text, review)
    review.updated += [c for c in checked.updated]
    review.deleted += [c for c in checked.deleted]
    plan.after = text
    review.notes.append(f"model pass: {spec.label} consolidated MEMORY.md ({review.model_tokens} tokens)")


def _refusal(store: VersionedStore, path: str) -> str:
    """Why a write the model asked for was refused, in the store's own terms."""
    try:
        rel = store.relpath(path)
    except StoreError as exc:
        return f"refused: {exc} (dream writes memory files only, never project source)"
    return f"refused: dream writes MEMORY.md only; {rel} is outside its sandbox"


def _record_changes(before: str, after: str, review: DreamReview) -> None:
    old = [line.text.strip() for line in parse_lines(before) if line.is_entry]
    new = [line.text.strip() for line in parse_lines(after) if line.is_entry]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        removed, added = old[i1:i2], new[j1:j2]
        for index in range(max(len(removed), len(added))):
            if index < len(removed) and index < len(added):
                review.updated.append(Change(removed[index], added[index], "consolidated by the model"))
            elif index < len(removed):
                review.deleted.append(Change(removed[index], "", "consolidated by the model"))
            else:
                review.updated.append(Change("", added[index], "added by the model from the gathered sources"))
