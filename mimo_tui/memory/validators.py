"""Validators of the memory layers: each returns typed problems located by file and line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mimo_tui.memory.layers import GLOBAL_ROOT, PROJECT_ROOT, classify, memory_files
from mimo_tui.memory.sections import Section, normalise_title, split_sections
from mimo_tui.memory.templates import (
    CHECKPOINT_SECTIONS,
    GLOBAL_SECTIONS,
    PROGRESS_SECTIONS,
    PROJECT_MAX_BYTES,
    PROJECT_MAX_LINES,
    PROJECT_OPTIONAL_TITLES,
    PROJECT_SECTIONS,
    SPILL_LINE_PREFIX,
    SectionSpec,
)
from mimo_tui.memory.tokens import count_tokens

ERROR = "error"
WARNING = "warning"
_NUMBERED = re.compile(r"^§\s*(\d+)\s*(.*)$")
_NOTES_ENTRY = re.compile(r"^\[turn (\d+) · ([^\]]+)\]$")
_SPILL_TARGET = re.compile(re.escape(SPILL_LINE_PREFIX) + r"(checkpoint-[A-Za-z0-9_.-]+\.md)")


@dataclass(frozen=True)
class Problem:
    """One problem of a memory file: where it is, how bad, and what is wrong."""

    file: str
    line: int
    severity: str
    message: str
    root: str = PROJECT_ROOT

    def __str__(self) -> str:
        where = self.file if self.root == PROJECT_ROOT else f"{self.root}:{self.file}"
        return f"{where}:{self.line}: {self.severity}: {self.message}"


def parse_iso(value: str) -> datetime | None:
    """An ISO-8601 timestamp (a trailing Z allowed), or None when it is not one."""
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def validate_file(relpath: str, text: str, root: str = PROJECT_ROOT, folder: Path | None = None) -> list[Problem]:
    """Problems of one memory file, chosen by its layer; `folder` (the repo) lets spill-over links be checked."""
    kind = classify(root, relpath)
    if root == GLOBAL_ROOT and kind.type == "memory":
        return _check_memory(relpath, text, root, GLOBAL_SECTIONS, ())
    if kind.type == "memory":
        return _check_memory(relpath, text, root, PROJECT_SECTIONS, PROJECT_OPTIONAL_TITLES)
    if kind.type == "checkpoint" and relpath.endswith("/checkpoint.md"):
        return _check_checkpoint(relpath, text, root, folder)
    if kind.type == "notes":
        return _check_notes(relpath, text, root)
    if kind.type == "progress":
        return _check_progress(relpath, text, root)
    return []


def _misshapen_files(folder: Path, root: str) -> dict[str, list[Problem]]:
    """Markdown names that are not regular files: a folder called MEMORY.md, a symlink."""
    found: dict[str, list[Problem]] = {}
    for path in sorted(folder.rglob("*.md")):
        rel = path.relative_to(folder)
        if rel.parts[0] in (".git", "cache", "runs") or any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_symlink():
            message, severity = "is a symbolic link, not a file; memory files are read, indexed and committed only as files", WARNING
        elif path.is_dir():
            message, severity = "is a folder, not a file", ERROR
        elif not path.is_file():
            message, severity = "is not a regular file", ERROR
        else:
            continue
        found[rel.as_posix()] = [Problem(rel.as_posix(), 1, severity, message, root)]
    return found


def validate_repo(folder: Path, root: str = PROJECT_ROOT) -> dict[str, list[Problem]]:
    """Problems of every memory file of a repo, by relpath (files without problems are left out)."""
    found: dict[str, list[Problem]] = _misshapen_files(folder, root)
    for relpath in sorted(memory_files(folder)):
        try:
            text = (folder / relpath).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            found[relpath] = [Problem(relpath, 1, ERROR, f"cannot be read as UTF-8 text ({exc})", root)]
            continue
        problems = validate_file(relpath, text, root, folder)
        if problems:
            found[relpath] = problems
    return found


def _over_budget(relpath: str, root: str, section: Section, budget: int | None, heading: str) -> list[Problem]:
    if budget is None:
        return []
    used = count_tokens(section.body_text)
    if used <= budget:
        return []
    return [Problem(relpath, section.line, ERROR, f"section '{heading}' is over budget: {used} tokens > {budget}", root)]


def _closest(title: str, expected: list[str]) -> str | None:
    from rapidfuzz import fuzz, process

    best = process.extractOne(normalise_title(title), expected, scorer=fuzz.ratio, score_cutoff=60)
    return best[0] if best else None


def _check_memory(
    relpath: str, text: str, root: str, specs: tuple[SectionSpec, ...], optional: tuple[str, ...]
) -> list[Problem]:
    problems: list[Problem] = []
    sections = [s for s in split_sections(text, max_level=2) if s.level == 2]
    by_title = {normalise_title(spec.title): spec for spec in specs}
    allowed = set(by_title) | {normalise_title(title) for title in optional}
    seen: dict[str, int] = {}
    strays: list[Section] = []
    for section in sections:
        key = normalise_title(section.title)
        if key in seen:
            problems.append(Problem(relpath, section.line, WARNING,
                                    f"heading '{section.title}' appears again (first at line {seen[key]})", root))
        seen.setdefault(key, section.line)
        if key in by_title:
            problems += _over_budget(relpath, root, section, by_title[key].budget, section.title)
        elif key not in allowed:
            strays.append(section)
    missing = [spec.title for spec in specs if normalise_title(spec.title) not in seen]
    for section in strays:
        guess = _closest(section.title, [normalise_title(t) for t in missing])
        if guess is not None:
            title = next(t for t in missing if normalise_title(t) == guess)
            missing.remove(title)
            problems.append(Problem(relpath, section.line, ERROR,
                                    f"heading '{section.title}' looks renamed; expected '## {title}'", root))
        else:
            problems.append(Problem(relpath, section.line, WARNING, f"unexpected section '{section.title}'", root))
    for title in missing:
        problems.append(Problem(relpath, 1, ERROR, f"missing heading '## {title}'", root))
    if root == PROJECT_ROOT:
        lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        size = len(text.encode("utf-8"))
        if lines > PROJECT_MAX_LINES or size > PROJECT_MAX_BYTES:
            problems.append(Problem(relpath, 1, WARNING, f"{lines} lines, {size} bytes: over the dream cap of "
                                    f"{PROJECT_MAX_LINES} lines and {PROJECT_MAX_BYTES // 1024} KB", root))
    return sorted(problems, key=lambda p: p.line)


def _check_checkpoint(relpath: str, text: str, root: str, folder: Path | None) -> list[Problem]:
    problems: list[Problem] = []
    sections = [s for s in split_sections(text, max_level=2) if s.level == 2]
    found: dict[int, Section] = {}
    last = 0
    for section in sections:
        match = _NUMBERED.match(section.title)
        if not match or not 1 <= int(match.group(1)) <= len(CHECKPOINT_SECTIONS):
            problems.append(Problem(relpath, section.line, ERROR,
                                    f"heading '{section.title}' is not one of the eleven '§N Title' sections", root))
            continue
        number, title = int(match.group(1)), match.group(2).strip()
        spec = CHECKPOINT_SECTIONS[number - 1]
        heading = f"§{number} {spec.title}"
        if number in found:
            problems.append(Problem(relpath, section.line, ERROR, f"section '{heading}' appears twice", root))
            continue
        found[number] = section
        if normalise_title(title) != normalise_title(spec.title):
            problems.append(Problem(relpath, section.line, ERROR,
                                    f"heading '{section.title}' looks renamed; expected '## {heading}'", root))
        if number < last:
            problems.append(Problem(relpath, section.line, ERROR, f"section '{heading}' is out of order", root))
        last = max(last, number)
        if not any(line.strip().startswith("_") for line in section.body[:2]):
            problems.append(Problem(relpath, section.line, WARNING,
                                    f"section '{heading}' lost its italic instruction line", root))
        problems += _over_budget(relpath, root, section, spec.budget, heading)
        for offset, line in enumerate(section.body):
            target = _SPILL_TARGET.search(line)
            if target and folder is not None and not (folder / relpath).with_name(target.group(1)).exists():
                problems.append(Problem(relpath, section.body_start + offset, WARNING,
                                        f"spill-over file {target.group(1)} does not exist", root))
    for number, spec in enumerate(CHECKPOINT_SECTIONS, start=1):
        if number not in found:
            problems.append(Problem(relpath, 1, ERROR, f"missing heading '## §{number} {spec.title}'", root))
    return sorted(problems, key=lambda p: p.line)


def _check_notes(relpath: str, text: str, root: str) -> list[Problem]:
    problems: list[Problem] = []
    for section in split_sections(text, max_level=2):
        if section.level != 2:
            continue
        match = _NOTES_ENTRY.match(section.title)
        if not match:
            problems.append(Problem(relpath, section.line, ERROR,
                                    f"malformed entry heading '{section.title}'; expected '## [turn N · ISO-timestamp]'", root))
        elif parse_iso(match.group(2)) is None:
            problems.append(Problem(relpath, section.line, ERROR,
                                    f"entry timestamp '{match.group(2)}' is not an ISO-8601 time", root))
    return problems


def _check_progress(relpath: str, text: str, root: str) -> list[Problem]:
    problems: list[Problem] = []
    lines = text.split("\n")
    body_offset = 0
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        fields = dict(line.split(":", 1) for line in lines[1:end] if ":" in line)
        stamp = fields.get("written-at")
        if stamp is None:
            problems.append(Problem(relpath, 1, ERROR, "front matter has no 'written-at' timestamp", root))
        elif parse_iso(stamp) is None:
            line = 1 + next(i for i in range(1, end) if lines[i].startswith("written-at"))
            problems.append(Problem(relpath, line, ERROR, f"'written-at' value '{stamp.strip()}' is not an ISO-8601 time", root))
        body_offset = end + 1
    else:
        problems.append(Problem(relpath, 1, ERROR, "missing front matter with 'written-at'", root))
    body = "\n".join(lines[body_offset:])
    titles = {normalise_title(s.title): s for s in split_sections(body, max_level=2) if s.level == 2}
    for spec in PROGRESS_SECTIONS:
        if normalise_title(spec.title) not in titles:
            problems.append(Problem(relpath, 1, ERROR, f"missing heading '## {spec.title}'", root))
    return problems
