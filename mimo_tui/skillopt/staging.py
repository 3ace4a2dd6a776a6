"""A run's result as a proposal: its versions, their edits and scores, and diffs against the live skill.

A run never writes the live skill. It records the live files it started from (`baseline.json`, and version 1 of
the run) and ends with `proposal.json`; adoption.py turns a chosen version (or some of its edits) into one commit.
These are plain functions so the CLI and the dashboard show the same thing.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mimo_tui.skillopt.run_folder import read_version_files, skill_version_path, version_files_dir

if TYPE_CHECKING:
    from mimo_tui.store import VersionedStore

PROPOSAL = "proposal.json"
BASELINE = "baseline.json"
ADOPTION = "adoption.json"
LABELS = ("baseline", "best", "final")


class StagingError(Exception):
    """A proposal cannot be shown or adopted as asked; the message says why and what to do."""


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any) -> None:
    from mimo_tui.atomic_file import atomic_write

    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


def write_baseline(run_dir: Path, skill: str, folder: Path, files: dict[str, str], store: VersionedStore | None) -> None:
    """What the live skill was when the run started (version 1 holds its text; this says where and which commit)."""
    head = None
    if store is not None:
        try:
            head = store.head().sha
        except Exception:  # an empty memory repo has no head yet
            head = None
    _write(run_dir / BASELINE, {
        "skill": skill, "source": str(folder), "live": f"skills/{skill}", "memory_head": head,
        "files": {rel: hashlib.sha1(text.encode("utf-8")).hexdigest() for rel, text in files.items()},
    })


def version_files(run_dir: Path, version: int) -> dict[str, str]:
    """Every file of a version (SKILL.md first, then scripts/ and references/)."""
    if not skill_version_path(run_dir, version).exists():
        raise StagingError(f"run {run_dir.name} has no version {version} ({skill_version_path(run_dir, version)} is missing)")
    return read_version_files(run_dir, version)


def version_paths(run_dir: Path, version: int) -> dict[str, Path]:
    """Each file of a version -> where the run folder keeps it."""
    paths = {"SKILL.md": skill_version_path(run_dir, version)}
    folder = version_files_dir(run_dir, version)
    if folder.is_dir():
        paths.update({p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()})
    return paths


def _state(run_dir: Path) -> dict[str, Any]:
    return _read(run_dir / "runtime_state.json") or {}


def _lineage(state: dict[str, Any], version: int) -> list[tuple[int, dict[str, Any]]]:
    """The versions from 2 up to `version`, each with what made it (older runs lack parents: one before)."""
    versions = state.get("versions") or {}
    chain: list[tuple[int, dict[str, Any]]] = []
    current = version
    while current > 1:
        info = dict(versions.get(str(current)) or {})
        if "edits" not in info:
            accepted = next((a for a in state.get("accepted", []) if a.get("version") == current), None)
            info["edits"] = list(accepted["edits"]) if accepted else None
        chain.append((current, info))
        parent = info.get("parent")
        current = int(parent) if isinstance(parent, int) else current - 1
    return list(reversed(chain))


def version_edits(run_dir: Path, version: int) -> list[dict[str, Any]]:
    """The edits that lead from the baseline to `version`, numbered from 1 (the numbers `--edits` takes), each with
    its version, step, kind and per-edit credit when the run scored it. None-edits (older runs) are left out."""
    state = _state(run_dir)
    credit_of = {a.get("version"): a.get("credit") for a in state.get("accepted", []) if a.get("credit")}
    numbered: list[dict[str, Any]] = []
    for number, info in _lineage(state, version):
        credits = credit_of.get(number) or []
        for index, edit in enumerate(info.get("edits") or []):
            entry = {"n": len(numbered) + 1, "version": number, "step": info.get("step"), "kind": info.get("kind", "accept"),
                     "op": edit.get("op"), "file": edit.get("file") or "SKILL.md", "target": edit.get("target"),
                     "text": edit.get("text", ""), "rationale": edit.get("rationale", "")}
            if index < len(credits):
                entry["credit"] = {"fixed": credits[index].get("fixed", []), "broke": credits[index].get("broke", [])}
            numbered.append(entry)
    return numbered


def build_proposal(run_dir: Path) -> dict[str, Any]:
    """The proposal of a run from its state, summary and test report (also for runs older than proposal.json)."""
    state = _state(run_dir)
    summary = _read(run_dir / "summary.json") or {}
    config = _read(run_dir / "config.json") or {}
    versions = state.get("versions") or {}
    val = summary.get("val") or {}
    test = summary.get("test") or {}
    picks = {"baseline": 1, "best": int(state.get("best_version", 1)), "final": int(state.get("incumbent_version", 1))}
    proposal: dict[str, Any] = {
        "run_id": run_dir.name, "skill": config.get("skill", "?"), "completed": bool(summary.get("completed")),
        "stop_reason": summary.get("stop_reason") or state.get("stop_reason"),
        "parent": {"run": config.get("parent_run"), "step": config.get("parent_step")} if config.get("parent_run") else None,
        "spent": summary.get("spent") or {"calls": state.get("spent_calls", 0), "usd": state.get("spent_usd", 0.0)},
        "written": time.time(),
    }
    for label, number in picks.items():
        proposal[label] = {"version": number,
                           "val": (val.get(label) or {}).get("score", (versions.get(str(number)) or {}).get("val")),
                           "test": (test.get(label) or {}).get("score")}
    listed: dict[str, Any] = {}
    for number in sorted({int(k) for k in versions} | set(picks.values())):
        if not skill_version_path(run_dir, number).exists():
            continue
        info = versions.get(str(number)) or {}
        listed[str(number)] = {"kind": info.get("kind", "baseline" if number == 1 else "accept"), "step": info.get("step"),
                               "parent": info.get("parent"), "val": info.get("val"),
                               "files": {rel: str(path.relative_to(run_dir)) for rel, path in version_paths(run_dir, number).items()}}
    proposal["versions"] = listed
    proposal["edits"] = {label: version_edits(run_dir, number) for label, number in picks.items() if label != "baseline"}
    return proposal


def write_proposal(run_dir: Path) -> dict[str, Any]:
    proposal = build_proposal(run_dir)
    _write(run_dir / PROPOSAL, proposal)
    return proposal


def load_proposal(run_dir: Path) -> dict[str, Any]:
    """proposal.json, or one built from the run's files when the run wrote none (older, stopped or crashed)."""
    saved = _read(run_dir / PROPOSAL)
    proposal = saved if isinstance(saved, dict) else build_proposal(run_dir)
    proposal["adoption"] = adoption_status(run_dir)
    return proposal


def adoption_status(run_dir: Path) -> dict[str, Any] | None:
    """What the user decided about the run: adopted (version, commit) or discarded; None while undecided."""
    data = _read(run_dir / ADOPTION)
    return data if isinstance(data, dict) else None


def record_decision(run_dir: Path, decision: dict[str, Any]) -> None:
    _write(run_dir / ADOPTION, decision | {"at": time.time()})


def resolve_version(run_dir: Path, spec: str | int | None) -> tuple[int, str]:
    """A version number and its label from 'best', 'final', 'baseline', a number or 'vN' (default: best)."""
    proposal = load_proposal(run_dir)
    text = str(spec if spec is not None else "best").strip().lower()
    if text in LABELS:
        return int(proposal[text]["version"]), text
    try:
        number = int(text.lstrip("v"))
    except ValueError:
        raise StagingError(f"unknown version {spec!r}: use best, final, baseline or a version number") from None
    if not skill_version_path(run_dir, number).exists():
        known = ", ".join(f"v{int(k)}" for k in sorted(proposal.get("versions", {}), key=int)) or "none"
        raise StagingError(f"run {run_dir.name} has no version {number} (versions: {known})")
    return number, f"v{number}"


def diff_files(old: dict[str, str], new: dict[str, str], old_label: str, new_label: str) -> str:
    """A unified diff over every file of two versions (files added or removed included)."""
    parts = []
    for rel in sorted(set(old) | set(new), key=lambda p: (p != "SKILL.md", p)):
        a, b = old.get(rel), new.get(rel)
        if a == b:
            continue
        parts.append("".join(difflib.unified_diff(
            (a or "").splitlines(keepends=True), (b or "").splitlines(keepends=True),
            f"{old_label}/{rel}" if a is not None else "/dev/null", f"{new_label}/{rel}" if b is not None else "/dev/null")))
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts)


def diff_versions(run_dir: Path, a: int, b: int) -> str:
    return diff_files(version_files(run_dir, a), version_files(run_dir, b), f"v{a}", f"v{b}")


def live_folder(store: VersionedStore, run_dir: Path) -> Path:
    """The folder of the skill the agent uses now: the memory repo's copy, else the folder the run started from."""
    baseline = _read(run_dir / BASELINE) or {}
    skill = baseline.get("skill") or (_read(run_dir / "config.json") or {}).get("skill", "")
    copy = store.root / "skills" / skill
    if (copy / "SKILL.md").is_file() or not baseline.get("source"):
        return copy
    return Path(baseline["source"])


def live_files(store: VersionedStore, run_dir: Path) -> dict[str, str]:
    from mimo_tui.skillopt.skill_files import SkillFileError, read_skill_files

    try:
        return read_skill_files(live_folder(store, run_dir))
    except SkillFileError:
        return {}


def diff_against_live(run_dir: Path, store: VersionedStore, version: int) -> str:
    return diff_files(live_files(store, run_dir), version_files(run_dir, version), "live", f"v{version}")
