"""Dream's plan (what the passes would change) and its one commit, authored `dream`, in the dream role's sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimo_tui.maintenance.dream import passes
from mimo_tui.maintenance.dream.entries import parse_lines, render
from mimo_tui.maintenance.dream.gather import Source, gather_sources, line_dates
from mimo_tui.maintenance.dream.history_check import Said, check_against_history, fold_durable_facts
from mimo_tui.maintenance.dream.review import DreamReview
from mimo_tui.maintenance.dream.verify import ProjectFacts
from mimo_tui.store import VersionedStore, Writer

DREAM = Writer("dream")
MEMORY = "MEMORY.md"


@dataclass(frozen=True)
class DreamSettings:
    """`[dream]` in the config."""

    duplicate_threshold: float = 90.0
    unverified: str = "mark"  # or "drop"
    max_lines: int = 200
    max_bytes: int = 10 * 1024
    days: int = 7
    model: str = ""
    auto: bool = False
    every_days: int = 7

    @classmethod
    def from_config(cls, config: Any) -> DreamSettings:
        table = config.table("dream") if config is not None else {}
        defaults = cls()
        unverified = str(table.get("unverified", defaults.unverified))
        return cls(
            duplicate_threshold=float(table.get("duplicate_threshold", defaults.duplicate_threshold)),
            unverified=unverified if unverified in ("mark", "drop") else "mark",
            max_lines=int(table.get("max_lines", defaults.max_lines)),
            max_bytes=int(table.get("max_bytes", defaults.max_bytes)),
            days=int(table.get("days", defaults.days)),
            model=str(table.get("model", defaults.model)),
            auto=bool(table.get("auto", defaults.auto)),
            every_days=int(table.get("every_days", defaults.every_days)),
        )


@dataclass
class DreamPlan:
    """MEMORY.md before and after the passes, the digest it was read at, and the review so far."""

    before: str
    after: str
    base_digest: str
    review: DreamReview
    sources: list[Source]


def _size(text: str) -> tuple[int, int]:
    return len(text.rstrip("\n").split("\n")) if text else 0, len(text.encode("utf-8"))


def consolidate_text(text: str, dates: list[int] | None, project_root: Path, settings: DreamSettings,
                     review: DreamReview, facts: ProjectFacts | None = None, sources: list[Source] | None = None,
                     history: list[Said] | None = None) -> str:
    """Run the deterministic passes over a MEMORY.md text; what they did goes into `review`."""
    lines = parse_lines(text, dates)
    facts = facts or ProjectFacts(project_root)
    if sources:
        lines = fold_durable_facts(lines, review, sources, settings.duplicate_threshold)
    lines = passes.prune_superseded(lines, review)
    lines = passes.merge_duplicates(lines, review, settings.duplicate_threshold)
    if history:
        lines = check_against_history(lines, review, history)
    lines = passes.make_dates_absolute(lines, review)
    lines = passes.verify_citations(lines, review, facts, drop=settings.unverified == "drop")
    lines = passes.enforce_caps(lines, review, settings.max_lines, settings.max_bytes)
    return render(lines)


def plan_dream(store: VersionedStore, project_root: Path, settings: DreamSettings,
               history: list[Said] | None = None) -> DreamPlan:
    """The passes' result, not committed. `history` (sentences of recent sessions) lets dream mark entries a later
    message contradicts; gathered checkpoints' durable facts are folded in either way."""
    snapshot = store.read(MEMORY)
    before = snapshot.text or ""
    review = DreamReview(size_before=_size(before))
    sources = gather_sources(store, settings.days)
    kinds = [source.kind for source in sources]
    review.notes.append(
        f"gathered MEMORY.md, {kinds.count('checkpoint')} checkpoint(s), {kinds.count('notes')} notes file(s) and "
        f"{kinds.count('progress log')} progress log(s) from the last {settings.days} days")
    dates = line_dates(store, MEMORY, before.count("\n") + 1)
    after = consolidate_text(before, dates, project_root, settings, review, sources=sources, history=history)
    review.size_after = _size(after)
    return DreamPlan(before, after, snapshot.digest, review, sources)


def apply_plan(store: VersionedStore, plan: DreamPlan, writer: Writer = DREAM) -> DreamReview:
    """One commit of the planned MEMORY.md (refused if it changed since it was read), or none when nothing changed."""
    review = plan.review
    review.size_after = _size(plan.after)
    if plan.after == plan.before or not review.changed:
        return review
    review.diff = store.diff_text(MEMORY, plan.after)
    review.commit = store.write(MEMORY, plan.after, writer, message=review.commit_message(),
                                base_digest=plan.base_digest)
    return review


def run_dream(store: VersionedStore, project_root: Path, settings: DreamSettings, model_pass: Any = None) -> DreamReview:
    """Plan, optionally consolidate through a model (`model_pass(plan)` edits the plan in place), then commit once."""
    plan = plan_dream(store, project_root, settings)
    if model_pass is not None:
        model_pass(plan)
    return apply_plan(store, plan)  # refused, not merged, if MEMORY.md changed meanwhile
