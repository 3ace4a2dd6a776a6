"""The project's own chat commands, `.mimo/commands/<name>.md`: a prompt template run as `/name arguments`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mimo_tui.skills.front_matter import FrontMatterError, parse_skill_file

ARGUMENTS = "$ARGUMENTS"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class CommandFileError(ValueError):
    """A command file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class UserCommand:
    name: str
    description: str
    body: str
    path: Path

    def expand(self, arguments: str) -> str:
        """The message sent for `/name arguments`: the body with $ARGUMENTS replaced (appended when it has none)."""
        if ARGUMENTS in self.body:
            return self.body.replace(ARGUMENTS, arguments.strip()).strip()
        return f"{self.body.strip()}\n\n{arguments.strip()}".strip()


def commands_dir(project_root: Path) -> Path:
    return project_root / ".mimo" / "commands"


def read_command(path: Path) -> UserCommand:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandFileError(f"{path}: cannot be read ({exc})") from exc
    description, body = "", text
    if text.lstrip("\ufeff").startswith("---"):
        try:
            parsed = parse_skill_file(text)
        except FrontMatterError as exc:
            raise CommandFileError(f"{path}: {exc}") from exc
        description, body = parsed.fields.get("description", ""), parsed.body
    return UserCommand(path.stem, description, body, path)


def find_command(project_root: Path, name: str) -> UserCommand | None:
    """The command `/name` of this project, or None when there is no such file."""
    name = name.removeprefix("/")
    if not _NAME.match(name):
        return None
    path = commands_dir(project_root) / f"{name}.md"
    return read_command(path) if path.is_file() else None


def list_commands(project_root: Path) -> list[str]:
    folder = commands_dir(project_root)
    return sorted(f"/{p.stem}" for p in folder.glob("*.md") if _NAME.match(p.stem)) if folder.is_dir() else []
