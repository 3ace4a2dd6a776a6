"""Subagents the project defines, `.mimo/agents/<name>.md` (front matter name and description, then instructions),
used by the agent tool's `definition` argument: their instructions lead the subagent's prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file

_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


class AgentDefinitionError(ValueError):
    """A definition that cannot be used; the message names the file."""


@dataclass(frozen=True)
class AgentDefinition:
    name: str
    description: str
    instructions: str

    def prompt_for(self, request: str) -> str:
        return f"{self.instructions.strip()}\n\nThis time:\n{request.strip()}" if request.strip() else self.instructions


def agents_dir(project_root: Path) -> Path:
    return project_root / ".mimo" / "agents"


def list_definitions(project_root: Path) -> list[str]:
    folder = agents_dir(project_root)
    return sorted(p.stem for p in folder.glob("*.md") if _NAME.match(p.stem)) if folder.is_dir() else []


def find_definition(project_root: Path, name: str) -> AgentDefinition | None:
    if not _NAME.match(name):
        return None
    path = agents_dir(project_root) / f"{name}.md"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentDefinitionError(f"{path}: cannot be read ({exc})") from exc
    if not text.lstrip("\ufeff").startswith("---"):
        return AgentDefinition(name, "", text)
    try:
        parsed = parse_skill_file(text)
    except FrontMatterError as exc:
        raise AgentDefinitionError(f"{path}: {exc}") from exc
    return AgentDefinition(name, parsed.fields.get("description", ""), parsed.body)
