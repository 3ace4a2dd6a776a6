"""Whether a skill's reviewed dataset is ready to train on: no item still pending review, and approved items in
train and val (the gate needs both). Training never starts on a draft the user has not finished reviewing."""

from __future__ import annotations

from mimo_tui.maintenance.distill.dataset_draft import PENDING, read_draft
from mimo_tui.store import VersionedStore


def split_count(store: VersionedStore, name: str, split: str) -> int:
    text = store.read(f"skills/{name}/eval/{split}.jsonl").text or ""
    return sum(1 for line in text.splitlines() if line.strip())


def pending_count(store: VersionedStore, name: str) -> int:
    return sum(1 for item in read_draft(store, name) if item.status == PENDING)


def training_problem(store: VersionedStore, name: str) -> str | None:
    """None when SKILL can be trained on its approved items; otherwise a sentence saying what to do first."""
    pending = pending_count(store, name)
    if pending:
        return (f"skill {name} has {pending} dataset item(s) still pending review: approve or drop them first "
                f"(`mimo distill --review-dataset {name}` or the dataset review screen)")
    missing = [split for split in ("train", "val") if split_count(store, name, split) == 0]
    if missing:
        return (f"skill {name} has no approved item in {' or '.join(missing)} "
                f"(.mimo/skills/{name}/eval/{missing[0]}.jsonl): the gate needs both train and val")
    return None


def skills_with_drafts(store: VersionedStore) -> list[tuple[str, int]]:
    """(skill, items pending review) for every project skill that has a drafted dataset, most pending first."""
    skills_dir = store.root / "skills"
    found = []
    if skills_dir.is_dir():
        for folder in sorted(skills_dir.iterdir()):
            if (folder / "eval" / "draft.jsonl").is_file():
                found.append((folder.name, pending_count(store, folder.name)))
    return sorted(found, key=lambda pair: -pair[1])
