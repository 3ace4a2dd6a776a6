"""What the project already has: skills, commands and subagents, by name and description."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from mimo_tui.skills.catalogue import load_catalogue, skill_roots
from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file
from mimo_tui.workspace import user_config_dir

# The chat's own slash commands: a distilled command never takes one of their names.
BUILTIN_COMMANDS = frozenset({"help", "mode", "goal", "model", "new", "sessions", "memory", "task", "checkpoint",
                              "compact", "mcp", "dream", "distill"})
COVERED_SIMILARITY = 80


@dataclass
class Inventory:
    """Existing skills, commands and subagents: name -> description."""

    skills: dict[str, str] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    agents: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> set[str]:
        return set(self.skills) | set(self.commands) | set(self.agents) | BUILTIN_COMMANDS

    def covering(self, request_text: str) -> str | None:
        """The existing skill, command or subagent whose description already covers a request like this."""
        for kind, table in (("skill", self.skills), ("command", self.commands), ("subagent", self.agents)):
            for name, description in table.items():
                if description and fuzz.token_set_ratio(request_text.lower(), description.lower()) >= COVERED_SIMILARITY:
                    return f"{kind} {name}"
        return None

    def summary(self) -> str:
        return (f"{len(self.skills)} skill(s), {len(self.commands)} command(s), {len(self.agents)} subagent(s) "
                "already there")


def _described(folder: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
            description = parse_skill_file(text).fields.get("description", "") if text.startswith("---") else ""
        except (OSError, UnicodeDecodeError, FrontMatterError):
            description = ""
        found[path.stem] = description
    return found


def take_inventory(project_root: Path) -> Inventory:
    mimo = project_root / ".mimo"
    catalogue = load_catalogue(skill_roots(project_root, user_config_dir() / "skills", extra_roots=True))
    return Inventory(
        skills={name: skill.description for name, skill in catalogue.skills.items()},
        commands=_described(mimo / "commands"),
        agents=_described(mimo / "agents"),
    )
