"""Bounded skill edits (append, insert_after, replace, delete) applied mechanically, with a report per edit.

An edit names a file of the skill (SKILL.md by default, or one under scripts/ or references/; see skill_files).
In managed mode only the marked managed region of SKILL.md is editable: the rules outside it are the user's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from mimo_tui.skillopt.managed_region import MANAGED_END, MANAGED_START, OUTSIDE_MANAGED, managed_span, with_managed_region
from mimo_tui.skillopt.skill_files import SKILL_FILE, SkillFileError, check_path, pack, unpack

EDIT_OPS = ("append", "insert_after", "replace", "delete")
GUIDANCE_START = "<!-- SLOW_UPDATE -->"
GUIDANCE_END = "<!-- /SLOW_UPDATE -->"


@dataclass(frozen=True)
class Edit:
    """One proposed edit; `target` must match the skill text exactly (not used by append)."""

    op: str
    text: str = ""
    target: str | None = None
    rationale: str = ""
    support: int = 1
    file: str = SKILL_FILE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """Identity used to merge duplicates: file, op, target and text with spacing and case ignored."""
        return "|".join(re.sub(r"\s+", " ", (s or "").strip().casefold()) for s in (self.file, self.op, self.target, self.text))


@dataclass(frozen=True)
class EditReport:
    """What happened to one edit: applied, skipped (target missing) or refused (with why)."""

    edit: Edit
    status: str
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.edit.to_dict(), "status": self.status, "reason": self.reason}


@dataclass
class ApplyResult:
    text: str
    reports: list[EditReport] = field(default_factory=list)

    @property
    def applied(self) -> list[EditReport]:
        return [r for r in self.reports if r.status == "applied"]

    def with_status(self, status: str) -> list[EditReport]:
        return [r for r in self.reports if r.status == status]


def edit_from_dict(data: Any) -> Edit:
    """Validate one edit from an optimizer reply; raises ValueError naming the problem."""
    if not isinstance(data, dict):
        raise ValueError(f"an edit must be an object, got {type(data).__name__}")
    op = str(data.get("op", "")).strip().lower()
    if op not in EDIT_OPS:
        raise ValueError(f"unknown edit operation {data.get('op')!r} (allowed: {', '.join(EDIT_OPS)})")
    text = data.get("text", "") or ""
    target = data.get("target")
    if not isinstance(text, str) or (target is not None and not isinstance(target, str)):
        raise ValueError("edit 'text' and 'target' must be strings")
    if op in ("insert_after", "replace", "delete") and not (target or "").strip():
        raise ValueError(f"edit {op} needs a non-empty 'target'")
    if op in ("append", "insert_after", "replace") and not text.strip():
        raise ValueError(f"edit {op} needs a non-empty 'text'")
    try:
        file = check_path(str(data.get("file") or SKILL_FILE))
    except SkillFileError as exc:
        raise ValueError(f"edit file {exc}") from None
    return Edit(op=op, text=text.strip("\n"), target=target if op != "append" else None,
                rationale=str(data.get("rationale", "") or ""), file=file)


def edit_from_record(data: dict[str, Any]) -> Edit:
    """An edit as stored in a run's records (events, state, step files)."""
    return Edit(data["op"], data.get("text", "") or "", data.get("target"), data.get("rationale", "") or "",
                int(data.get("support", 1) or 1), data.get("file") or SKILL_FILE)


def front_matter_end(text: str) -> int:
    """The offset where the body starts (after a leading `---` front matter block), else 0."""
    match = re.match(r"---\n.*?\n---\n?", text, re.S)
    return match.end() if match else 0


def guidance_span(text: str) -> tuple[int, int] | None:
    """The start and end offsets of the protected guidance block, markers included."""
    start = text.find(GUIDANCE_START)
    if start < 0:
        return None
    end = text.find(GUIDANCE_END, start)
    return (start, end + len(GUIDANCE_END)) if end >= 0 else (start, len(text))


def guidance_text(text: str) -> str:
    text = unpack(text)[SKILL_FILE]
    span = guidance_span(text)
    if span is None:
        return ""
    inner = text[span[0] + len(GUIDANCE_START) : span[1]]
    return inner.removesuffix(GUIDANCE_END).strip()


def set_guidance(text: str, guidance: str, managed: bool = False) -> str:
    """Write `guidance` into the protected block of SKILL.md, creating it when absent: at the end of the skill, or
    in managed mode at the end of the managed region (created when absent too)."""
    files = unpack(text)
    main = files[SKILL_FILE]
    block = f"{GUIDANCE_START}\n{guidance.strip()}\n{GUIDANCE_END}"
    span = guidance_span(main)
    if span is not None:
        main = main[: span[0]] + block + main[span[1] :]
    elif not managed:
        main = main.rstrip("\n") + "\n\n" + block + "\n"
    else:
        region = managed_span(main)
        if region is None:
            main = with_managed_region(main, block)
        else:
            inner = main[region[0] : region[1]].rstrip("\n")
            main = main[: region[0]] + (inner + "\n" if inner.strip() else "\n") + block + "\n" + main[region[1] :]
    files[SKILL_FILE] = main
    return pack(files)


def _apply_one(text: str, edit: Edit, managed: bool = False) -> tuple[str | None, str, str]:
    """Return (new packed text or None, status, reason) for one edit, applied to the file it names."""
    files = unpack(text)
    try:
        path = check_path(edit.file)
    except SkillFileError as exc:
        return None, "refused", str(exc)
    for marker in (MANAGED_START, MANAGED_END, "<!-- mimo:file", "<!-- /mimo:file"):
        if marker in edit.text or (edit.target and marker in edit.target):
            return None, "refused", "edits may not write the skill's region or file markers"
    if path not in files:
        if edit.op != "append":
            return None, "skipped", f"{path} is not a file of the skill"
        files[path] = edit.text.strip("\n") + "\n"
        return pack(files), "applied", ""
    if path == SKILL_FILE:
        new, status, reason = _apply_main(files[path], edit, managed)
    else:
        new, status, reason = _apply_text(files[path], edit)
    if new is None:
        return None, status, reason
    files[path] = new
    return pack(files), status, reason


def _apply_text(text: str, edit: Edit) -> tuple[str | None, str, str]:
    """An edit of a file under scripts/ or references/: no front matter, no protected block."""
    if edit.op == "append":
        return text.rstrip("\n") + ("\n\n" if text.strip() else "") + edit.text.strip("\n") + "\n", "applied", ""
    target = edit.target or ""
    position = text.find(target)
    if position < 0:
        return None, "skipped", f"target not found in {edit.file}"
    return _splice(text, edit, position, position + len(target)), "applied", ""


def _splice(text: str, edit: Edit, position: int, end: int) -> str:
    if edit.op == "insert_after":
        line_end = text.find("\n", end - 1) if not (edit.target or "").endswith("\n") else end - 1
        line_end = len(text) if line_end < 0 else line_end
        return text[:line_end] + "\n" + edit.text.strip("\n") + text[line_end:]
    if edit.op == "replace":
        return text[:position] + edit.text + text[end:]
    return re.sub(r"\n{3,}", "\n\n", text[:position] + text[end:])


def _apply_managed(text: str, edit: Edit) -> tuple[str | None, str, str]:
    """An edit of SKILL.md in managed mode: appended inside the managed region (created at the end when absent),
    before its guidance block; a target counts only inside the region."""
    region = managed_span(text)
    if edit.op == "append":
        if region is None:
            return with_managed_region(text, edit.text), "applied", ""
        inner = text[region[0] : region[1]]
        guidance = guidance_span(inner)
        cut = region[0] + guidance[0] if guidance and not inner[guidance[1] :].strip() else region[1]
        before = text[region[0] : cut].rstrip("\n")
        addition = edit.text.strip("\n")
        joined = (before + "\n" if before.strip() else "\n") + addition + "\n"
        return text[: region[0]] + joined + ("\n" if cut != region[1] else "") + text[cut:], "applied", ""
    target = edit.target or ""
    position = text.find(target, region[0], region[1]) if region else -1
    if position < 0 or position + len(target) > region[1]:  # type: ignore[index]
        if target in text:
            return None, "refused", OUTSIDE_MANAGED
        return None, "skipped", "target not found in the skill"
    protected = guidance_span(text)
    end = position + len(target)
    if protected and position < protected[1] and end > protected[0]:
        return None, "refused", "target lies in the protected guidance block"
    return _splice(text, edit, position, end), "applied", ""


def _apply_main(text: str, edit: Edit, managed: bool) -> tuple[str | None, str, str]:
    """An edit of SKILL.md (the front matter and the protected guidance block are never edited)."""
    protected = guidance_span(text)
    body_start = front_matter_end(text)
    for marker in (GUIDANCE_START, GUIDANCE_END):
        if marker in edit.text or (edit.target and marker in edit.target):
            return None, "refused", "edits may not touch the protected guidance block"
    if managed:
        return _apply_managed(text, edit)
    if edit.op == "append":
        addition = edit.text.strip("\n")
        if protected and not text[protected[1] :].strip():
            return text[: protected[0]].rstrip("\n") + "\n\n" + addition + "\n\n" + text[protected[0] :], "applied", ""
        return text.rstrip("\n") + "\n\n" + addition + "\n", "applied", ""
    target = edit.target or ""
    position = text.find(target)
    if position < 0:
        return None, "skipped", "target not found in the skill"
    end = position + len(target)
    if position < body_start:
        return None, "refused", "the front matter is not editable"
    if protected and position < protected[1] and end > protected[0]:
        return None, "refused", "target lies in the protected guidance block"
    return _splice(text, edit, position, end), "applied", ""


def _apply_all(text: str, edits: list[Edit], left_out: set[int], managed: bool = False) -> tuple[str, list[EditReport | None]]:
    """Apply the edits not left out, in order; None stands for a left-out edit."""
    reports: list[EditReport | None] = []
    for index, edit in enumerate(edits):
        if index in left_out:
            reports.append(None)
            continue
        new, status, reason = _apply_one(text, edit, managed)
        if new is not None:
            text = new
        reports.append(EditReport(edit, status, reason))
    return text, reports


def apply_edits(text: str, edits: list[Edit], length_ok: Callable[[str, str], str | None] | None = None,
                managed: bool = False) -> ApplyResult:
    """Apply edits in order (best-ranked first); each is applied, skipped (missing target) or refused, and reported.

    `length_ok(original, final)` returns why a final text breaks the length limits. Limits act on the final
    text only, so a replacement that shortens the skill on the way is fine: while the final text breaks a
    limit, the lowest-ranked applied edit whose removal fixes it (else one that pushes the wrong way) is
    refused with that reason.
    """
    refused: dict[int, str] = {}
    final, reports = _apply_all(text, edits, set(), managed)
    while length_ok is not None:
        problem = length_ok(text, final)
        applied = [i for i, r in enumerate(reports) if r is not None and r.status == "applied"]
        if problem is None or not applied:
            break
        trials = {i: _apply_all(text, edits, set(refused) | {i}, managed)[0] for i in reversed(applied)}
        growing = len(final) > len(text)
        choice = next((i for i, trial in trials.items() if length_ok(text, trial) is None), None)
        if choice is None:
            choice = next((i for i, trial in trials.items() if (len(trial) < len(final) if growing else len(trial) > len(final))),
                          applied[-1])
        refused[choice] = problem
        final, reports = _apply_all(text, edits, set(refused), managed)
    result = ApplyResult(final)
    for index, edit in enumerate(edits):
        report = reports[index]
        result.reports.append(EditReport(edit, "refused", refused[index]) if report is None else report)
    return result



def merge_edits(proposals: list[Edit]) -> tuple[list[Edit], list[dict[str, Any]]]:
    """Merge duplicates (support adds up) and drop edits on text another edit already changes."""
    merged: dict[str, Edit] = {}
    for edit in proposals:
        if edit.key in merged:
            kept = merged[edit.key]
            merged[edit.key] = Edit(kept.op, kept.text, kept.target, kept.rationale, kept.support + edit.support, kept.file)
        else:
            merged[edit.key] = edit
    ordered = sorted(merged.values(), key=lambda e: -e.support)
    kept_edits: list[Edit] = []
    conflicts: list[dict[str, Any]] = []
    for edit in ordered:
        clash = next((k for k in kept_edits if k.file == edit.file and edit.target and k.target
                      and (edit.target in k.target or k.target in edit.target)), None)
        if clash is not None:
            conflicts.append({**edit.to_dict(), "reason": f"same text as a stronger edit ({clash.op})"})
            continue
        kept_edits.append(edit)
    return kept_edits, conflicts


def rank_edits(edits: list[Edit], budget: int) -> tuple[list[Edit], list[Edit]]:
    """Keep the `budget` edits with the most support (stable for ties)."""
    ranked = sorted(edits, key=lambda e: -e.support)
    return ranked[: max(0, budget)], ranked[max(0, budget) :]
