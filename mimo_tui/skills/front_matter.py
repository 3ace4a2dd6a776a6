"""Parse the YAML front matter of a SKILL.md (the small subset skills use: scalars and folded text)."""

from __future__ import annotations

import re
from dataclasses import dataclass

KEY_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$")


class FrontMatterError(ValueError):
    """The front matter is missing or malformed; the message names the line."""


@dataclass(frozen=True)
class ParsedSkillFile:
    """The front matter fields and the markdown body of a skill file."""

    fields: dict[str, str]
    body: str


def _scalar(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return inner.replace("\\\"", '"') if raw[0] == '"' else inner.replace("''", "'")
    return raw


def parse_skill_file(text: str) -> ParsedSkillFile:
    """Split `---` front matter from the body; raises FrontMatterError naming the bad line."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("line 1: expected '---' to open the front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration as exc:
        raise FrontMatterError("the front matter is not closed with '---'") from exc
    fields: dict[str, str] = {}
    key: str | None = None
    block: list[str] = []
    folded = False

    def close_block() -> None:
        if key is not None and block:
            joiner = " " if folded else "\n"
            fields[key] = joiner.join(part.strip() for part in block).strip()

    for number in range(1, end):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t" and key is not None:
            block.append(line)
            continue
        match = KEY_LINE.match(line)
        if not match:
            raise FrontMatterError(f"line {number + 1}: expected 'key: value', got {line.strip()!r}")
        close_block()
        key, value = match.group(1), match.group(2).strip()
        block = []
        folded = value in (">", ">-", "|", "|-")
        if folded or value == "":
            folded = value.startswith(">") or value == ""
            fields[key] = ""
        else:
            fields[key] = _scalar(value)
    close_block()
    return ParsedSkillFile(fields, "\n".join(lines[end + 1 :]).strip() + "\n")
