"""Skills that can be trained: the agent's skill roots (peers' folders included) with each skill's eval set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mimo_tui.skills import FrontMatterError, parse_skill_file, skill_problems, skill_roots
from mimo_tui.workspace import user_config_dir


@dataclass(frozen=True)
class SkillEntry:
    """One skill folder: its name, description, where it lives and its eval dataset folder if any."""

    name: str
    description: str
    folder: Path
    origin: str
    eval_dir: Path | None
    problems: tuple[str, ...] = ()


def _entries(root: Path, origin: str) -> list[SkillEntry]:
    found: list[SkillEntry] = []
    if not root.is_dir():
        return found
    for skill_file in sorted(root.glob("*/SKILL.md")):
        folder = skill_file.parent
        eval_dir = folder / "eval" if (folder / "eval").is_dir() else None
        try:
            fields = parse_skill_file(skill_file.read_text(encoding="utf-8")).fields
        except (OSError, UnicodeDecodeError):
            found.append(SkillEntry(folder.name, "", folder, origin, eval_dir, ("SKILL.md cannot be read",)))
            continue
        except FrontMatterError as exc:
            found.append(SkillEntry(folder.name, "", folder, origin, eval_dir, (f"malformed front matter: {exc}",)))
            continue
        problems = tuple(skill_problems(fields, folder.name))
        found.append(SkillEntry(folder.name, fields.get("description", "").strip(), folder, origin, eval_dir, problems))
    return found


def find_skills(project_root: Path, mimo_dir: Path | None = None) -> list[SkillEntry]:
    """Every skill found, highest precedence first (project copies first); a shipped eval set is shared with
    the project copy of the same name. Training names a skill explicitly, so peers' folders are always searched."""
    roots = skill_roots(project_root, user_config_dir() / "skills", extra_roots=True)
    if mimo_dir is not None:
        roots = [(label, mimo_dir / "skills" if label == "project" else root) for label, root in roots]
    entries = [entry for label, root in reversed(roots) for entry in _entries(root, label)]
    shipped_evals = {e.name: e.eval_dir for e in entries if e.origin == "shipped" and e.eval_dir}
    return [
        SkillEntry(e.name, e.description, e.folder, e.origin, e.eval_dir or shipped_evals.get(e.name), e.problems)
        for e in entries
    ]
