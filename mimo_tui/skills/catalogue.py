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


def skill_roots(project_root: Path, user_skills: Path | None, extra_roots: bool) -> list[tuple[str, Path]]:
    """The roots searched, lowest precedence first: app, user, (opt-in) .claude/.agents, project .mimo/skills."""
    roots: list[tuple[str, Path]] = [("app", app_skills_dir())]
    if user_skills is not None:
        roots.append(("user", user_skills))
    if extra_roots:
        roots += [("claude", project_root / ".claude" / "skills"), ("agents", project_root / ".agents" / "skills")]
    roots.append(("project", project_root / ".mimo" / "skills"))
    return roots


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
            name = parsed.fields.get("name", "").strip()
            description = parsed.fields.get("description", "").strip()
            if not name or not NAME.match(name) or len(name) > 64:
                catalogue.problems.append(SkillProblem(path, f"name {name!r} must be 1-64 lowercase words joined by hyphens"))
                continue
            if name != path.parent.name:
                catalogue.problems.append(SkillProblem(path, f"name {name!r} differs from its folder {path.parent.name!r}"))
                continue
            if not description or len(description) > 1024:
                catalogue.problems.append(SkillProblem(path, "description must be 1-1024 characters"))
                continue
            catalogue.skills[name] = Skill(name, description, path, label)
    return catalogue
