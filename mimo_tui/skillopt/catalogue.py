"""Where skills are found: the shipped `skills/` folder, the project's `.mimo/skills/` and peers' skill roots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import mimo_tui

PEER_ROOTS = (".claude/skills", ".agents/skills", ".opencode/skills")
NAME_RULE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class SkillEntry:
    """One skill folder: its name, description, where it lives and its eval dataset folder if any."""

    name: str
    description: str
    folder: Path
    origin: str
    eval_dir: Path | None
    problems: tuple[str, ...] = ()


def shipped_skills_dir() -> Path | None:
    """The repository's top-level `skills/` folder, when the package runs from a checkout or editable install."""
    candidate = Path(mimo_tui.__file__).resolve().parent.parent / "skills"
    return candidate if candidate.is_dir() else None


def parse_front_matter(text: str) -> dict[str, str]:
    """The `key: value` pairs of a leading `---` block (enough for name and description)."""
    match = re.match(r"---\n(.*?)\n---", text, re.S)
    if not match:
        return {}
    values: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "\t")):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def check_skill(folder: Path, text: str) -> tuple[str, ...]:
    """Problems with a SKILL.md's front matter (name equals folder, description present)."""
    meta = parse_front_matter(text)
    problems = []
    name = meta.get("name", "")
    if not name:
        problems.append("front matter has no name")
    elif name != folder.name:
        problems.append(f"front matter name {name!r} differs from the folder name {folder.name!r}")
    elif not NAME_RULE.match(name) or len(name) > 64:
        problems.append(f"name {name!r} must be 1-64 lowercase words joined by hyphens")
    description = meta.get("description", "")
    if not description or len(description) > 1024:
        problems.append("description must be 1-1024 characters")
    return tuple(problems)


def _entries(root: Path, origin: str) -> list[SkillEntry]:
    found = []
    if not root.is_dir():
        return found
    for skill_file in sorted(root.glob("*/SKILL.md")):
        folder = skill_file.parent
        try:
            text = skill_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            found.append(SkillEntry(folder.name, "", folder, origin, None, ("SKILL.md cannot be read",)))
            continue
        meta = parse_front_matter(text)
        eval_dir = folder / "eval" if (folder / "eval").is_dir() else None
        found.append(SkillEntry(folder.name, meta.get("description", ""), folder, origin, eval_dir, check_skill(folder, text)))
    return found


def find_skills(project_root: Path | None, mimo_dir: Path | None) -> list[SkillEntry]:
    """Every skill found, project copies first; a shipped eval set is shared with the project copy of the same name."""
    entries: list[SkillEntry] = []
    if mimo_dir is not None:
        entries += _entries(mimo_dir / "skills", "project")
    if project_root is not None:
        for rel in PEER_ROOTS:
            entries += _entries(project_root / rel, rel)
    shipped = shipped_skills_dir()
    if shipped is not None:
        entries += _entries(shipped, "shipped")
    shipped_evals = {e.name: e.eval_dir for e in entries if e.origin == "shipped" and e.eval_dir}
    return [
        SkillEntry(e.name, e.description, e.folder, e.origin, e.eval_dir or shipped_evals.get(e.name), e.problems)
        for e in entries
    ]
