"""Adopting a run's version (or some of its edits) into the live skill as one commit by `skillopt`, or discarding it.

The version was built from the live skill as it was when the run started (version 1). When the live files changed
since, each changed file is merged three ways (git merge-file); a file that conflicts refuses the adoption, named.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mimo_tui.skillopt.edits import apply_edits, edit_from_record, set_guidance
from mimo_tui.skillopt.skill_files import pack, unpack
from mimo_tui.skillopt.staging import (
    StagingError, _read, live_folder, live_files, load_proposal, record_decision, resolve_version, version_edits,
    version_files,
)

if TYPE_CHECKING:
    from mimo_tui.store import VersionedStore


@dataclass
class Adoption:
    """What an adoption did: the commit (None when the live skill already held the version) and the files."""

    run_id: str
    version: int
    label: str
    commit: str | None
    files: list[str] = field(default_factory=list)
    edits: list[int] | None = None
    message: str = ""


def _managed(run_dir: Path) -> bool:
    return not bool((_read(run_dir / "config.json") or {}).get("edit_whole"))


def replay_edits(run_dir: Path, version: int, chosen: list[int]) -> dict[str, str]:
    """The files of the baseline with only the chosen edits of `version` (numbers from version_edits) applied, in
    order; an edit that needs text another edit wrote is refused, named."""
    edits = version_edits(run_dir, version)
    known = {e["n"]: e for e in edits}
    missing = [n for n in chosen if n not in known]
    if not edits:
        raise StagingError(f"run {run_dir.name} recorded no edits for v{version}: adopt the whole version instead")
    if missing:
        raise StagingError(f"v{version} has no edit {', '.join(map(str, missing))} (edits 1-{len(edits)}; "
                           f"`mimo skill runs --show {run_dir.name}` lists them)")
    text = pack(version_files(run_dir, 1))
    managed = _managed(run_dir)
    for number in sorted(set(chosen)):
        edit = known[number]
        if edit["op"] == "guidance":
            text = set_guidance(text, edit["text"], managed=managed)
            continue
        result = apply_edits(text, [edit_from_record(edit)], managed=managed)
        if not result.applied:
            reason = result.reports[0].reason if result.reports else "not applied"
            raise StagingError(f"edit {number} ({edit['op']} in {edit['file']}) cannot be applied without the edits "
                               f"before it: {reason}")
        text = result.text
    return unpack(text)


def merge3(live: str, base: str, new: str) -> str | None:
    """The live text with the change base -> new merged in; None when the two changes overlap."""
    with tempfile.TemporaryDirectory(prefix="mimo-merge-") as scratch:
        paths = []
        for name, text in (("live", live), ("base", base), ("new", new)):
            path = Path(scratch) / name
            path.write_bytes(text.encode("utf-8"))
            paths.append(str(path))
        proc = subprocess.run(["git", "merge-file", "-p", "--quiet", *paths], capture_output=True)
    return proc.stdout.decode("utf-8") if proc.returncode == 0 else None


def plan_files(store: VersionedStore, run_dir: Path, new: dict[str, str]) -> dict[str, str]:
    """Skill-relative path -> the text to commit; raises StagingError naming a file whose live change conflicts."""
    base = version_files(run_dir, 1)
    live = live_files(store, run_dir)
    skill = (load_proposal(run_dir).get("skill") or "")
    has_copy = (store.root / "skills" / skill / "SKILL.md").is_file()
    writes: dict[str, str] = {}
    for rel in sorted(set(new) | set(base)):
        b, n, current = base.get(rel), new.get(rel), live.get(rel)
        if n is None or n == b or current == n:
            if not has_copy and current is not None:
                writes[rel] = current  # the project's copy starts as the whole live skill
            continue
        if current == b:
            writes[rel] = n
            continue
        merged = merge3(current, b, n) if current is not None and b is not None else None
        if merged is None:
            where = live_folder(store, run_dir) / rel
            raise StagingError(f"{where} changed since run {run_dir.name} started, in the lines this version changes; "
                               "nothing was adopted (edit the file by hand, or train again from the live skill)")
        writes[rel] = merged
    if not has_copy:
        writes.update({rel: text for rel, text in live.items() if rel not in writes})
    return writes


def refuse_if_running(run_dir: Path) -> None:
    """A run whose trainer process is alive (process.json) is still changing its versions: nothing is adopted."""
    from mimo_tui.skillopt.run_process import process_state

    if process_state(run_dir) == "alive":
        raise StagingError(f"run {run_dir.name} is still running (its trainer process is alive, see "
                           f"{run_dir / 'process.json'}): stop it or let it finish, then adopt")


def adopt(store: VersionedStore, run_dir: Path, version: str | int | None = None, edits: list[int] | None = None) -> Adoption:
    """Commit the chosen version (default best) or only the chosen edits of it into `.mimo/skills/<skill>/`, as one
    commit authored skillopt naming the run and version."""
    from mimo_tui.store import Writer

    refuse_if_running(run_dir)
    number, label = resolve_version(run_dir, version)
    proposal = load_proposal(run_dir)
    skill = proposal.get("skill") or "?"
    new = replay_edits(run_dir, number, edits) if edits else version_files(run_dir, number)
    writes = plan_files(store, run_dir, new)
    folder = f"skills/{skill}"
    dirty = store.git.out("status", "--porcelain", "--untracked-files=all", "--", folder).strip()
    if dirty:  # committed first as the user's outside edit, so a revert of the adoption gives those bytes back
        store.commit_external()
    val = (proposal.get(label) or {}).get("val") if label in ("best", "final", "baseline") else \
        (proposal.get("versions", {}).get(str(number)) or {}).get("val")
    picked = f", edits {','.join(map(str, sorted(set(edits))))}" if edits else ""
    score = f", val {val:.2f}" if isinstance(val, (int, float)) else ""
    message = f"skillopt: adopt run {run_dir.name} v{number:04d} ({label}{picked}{score})"
    info = store.write_files({f"{folder}/{rel}": text for rel, text in writes.items()}, Writer("skillopt"), message)
    result = Adoption(run_dir.name, number, label, info.sha if info else None, sorted(writes), sorted(set(edits)) if edits else None,
                      message)
    record_decision(run_dir, {"status": "adopted", "version": number, "label": label, "edits": result.edits,
                              "commit": result.commit, "files": result.files})
    return result


def discard(run_dir: Path) -> None:
    """Mark the run's proposal as discarded (its folder stays, for the record); the live skill is not touched."""
    load_proposal(run_dir)
    record_decision(run_dir, {"status": "discarded"})
