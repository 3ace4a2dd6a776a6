"""The skills catalogue: SKILL.md files found under the skill roots, by name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Skill:
    """A skill: its name and description (always in context) and where its body is."""

    name: str
    description: str
    path: Path
    root: str

    def body(self) -> str:
        """The skill's markdown body, read when the skill is used."""
        return parse_skill_file(self.path.read_text(encoding="utf-8")).body


@dataclass(frozen=True)
class SkillProblem:
    """A skill file that could not be used, and why."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class SkillCatalogue:
    """All usable skills (later roots override earlier ones by name) and the problems met."""

    skills: dict[str, Skill] = field(default_factory=dict)
    problems: list[SkillProblem] = field(default_factory=list)

    def get(self, name: str) -> Skill | None:
        return self.skills.get(name)

    def names(self) -> list[str]:
        return sorted(self.skills)


def app_skills_dir() -> Path:
    """The skills shipped with the app (top-level `skills/` beside the package)."""
    import mimo_tui

    return Path(mimo_tui.__file__).resolve().parent.parent / "skills"


PEER_ROOTS = (".claude/skills", ".agents/skills", ".opencode/skills")


def skill_roots(project_root: Path, user_skills: Path | None, extra_roots: bool) -> list[tuple[str, Path]]:
    """The roots searched, lowest precedence first: shipped, user, (opt-in) peers' folders, project `.mimo/skills`."""
    roots: list[tuple[str, Path]] = [("shipped", app_skills_dir())]
    if user_skills is not None:
        roots.append(("user", user_skills))
    if extra_roots:
        roots += [(rel, project_root / rel) for rel in PEER_ROOTS]
    roots.append(("project", project_root / ".mimo" / "skills"))
    return roots


def skill_problems(fields: dict[str, str], folder_name: str) -> list[str]:
    """What keeps a parsed SKILL.md from being a valid skill (REFERENCE's name and description rules)."""
    name = fields.get("name", "").strip()
    description = fields.get("description", "").strip()
    problems = []
    if not name or not NAME.match(name) or len(name) > 64:
        problems.append(f"name {name!r} must be 1-64 lowercase words joined by hyphens")
    elif name != folder_name:
        problems.append(f"name {name!r} differs from its folder {folder_name!r}")
    if not description or len(description) > 1024:
        problems.append("description must be 1-1024 characters")
    return problems


def load_catalogue(roots: list[tuple[str, Path]]) -> SkillCatalogue:
    """Read every `<root>/<name>/SKILL.md`; malformed files become problems, never exceptions."""
    catalogue = SkillCatalogue()
    for label, root in roots:
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/SKILL.md")):
            try:
                parsed = parse_skill_file(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                catalogue.problems.append(SkillProblem(path, f"cannot be read ({exc})"))
                continue
            except FrontMatterError as exc:
                catalogue.problems.append(SkillProblem(path, f"malformed front matter: {exc}"))
                continue
            problems = skill_problems(parsed.fields, path.parent.name)
            if problems:
                catalogue.problems.append(SkillProblem(path, problems[0]))
                continue
            name = parsed.fields["name"].strip()
            catalogue.skills[name] = Skill(name, parsed.fields["description"].strip(), path, label)
    return catalogue
