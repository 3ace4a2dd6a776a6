"""Distill's plan (proposals from repeated workflows) and the commits of the approved ones, authored `distill`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.maintenance.distill.history import load_requests
from mimo_tui.maintenance.distill.inventory import Inventory, take_inventory
from mimo_tui.maintenance.distill.mining import mine_workflows
from mimo_tui.maintenance.distill.proposals import Proposal, choose_form, name_for, render
from mimo_tui.sessions import SessionStore
from mimo_tui.store import CommitInfo, StoreError, VersionedStore, Writer

DISTILL = Writer("distill")


@dataclass(frozen=True)
class DistillSettings:
    """`[distill]` in the config."""

    days: int = 30
    min_repeats: int = 2
    similarity: float = 80.0
    auto: bool = False
    every_days: int = 30
    # The optional nightly dataset -> training schedule: off by default, and it only ever stages.
    train_nightly: bool = False

    @classmethod
    def from_config(cls, config: Any) -> DistillSettings:
        table = config.table("distill") if config is not None else {}
        d = cls()
        return cls(int(table.get("days", d.days)), int(table.get("min_repeats", d.min_repeats)),
                   float(table.get("similarity", d.similarity)), bool(table.get("auto", d.auto)),
                   int(table.get("every_days", d.every_days)), bool(table.get("train_nightly", d.train_nightly)))


@dataclass
class DistillPlan:
    proposals: list[Proposal] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    requests: int = 0
    inventory: Inventory = field(default_factory=Inventory)

    def text(self) -> str:
        head = (f"distill: {self.requests} request(s) read, {len(self.proposals)} proposal(s); "
                f"{self.inventory.summary()}")
        lines = [head] + [f"  {n}. {p.line()}" for n, p in enumerate(self.proposals, 1)]
        lines += [f"  skipped: {why}" for why in self.skipped]
        if not self.proposals:
            lines.append("nothing to distill: no workflow repeated often enough that is not already covered")
        return "\n".join(lines)


def plan_distill(sessions: SessionStore, project_root: Path, settings: DistillSettings) -> DistillPlan:
    requests = load_requests(sessions, settings.days)
    inventory = take_inventory(project_root)
    plan = DistillPlan(requests=len(requests), inventory=inventory)
    taken = set(inventory.names)
    for workflow in mine_workflows(requests, settings.similarity, settings.min_repeats):
        covered = inventory.covering(workflow.requests[0].text)
        if covered:
            plan.skipped.append(f"{workflow.requests[0].text[:80]!r} (seen {workflow.times} times) is covered by {covered}")
            continue
        kind = choose_form(workflow)
        name = name_for(workflow, taken)
        taken.add(name)
        plan.proposals.append(render(workflow, kind, name))
    return plan


def adopt(store: VersionedStore, proposal: Proposal) -> CommitInfo | None:
    """Commit one approved proposal (refused if the file exists: distill never overwrites what someone wrote)."""
    if store.read(proposal.relpath).exists:
        raise StoreError(f"{proposal.relpath} already exists in the memory repo; distill does not overwrite it")
    message = (f"distill: added {proposal.kind} {proposal.name} ({proposal.relpath}), a workflow seen "
               f"{proposal.times} times in sessions {', '.join(proposal.sessions[:5])}")
    return store.write(proposal.relpath, proposal.text, DISTILL, message=message)
