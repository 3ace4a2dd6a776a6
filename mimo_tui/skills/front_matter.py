"""Parse the YAML front matter of a SKILL.md with a real YAML parser: what is not valid YAML is refused, by line."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any


class FrontMatterError(ValueError):
    """The front matter is missing or malformed; the message names the line."""


@dataclass(frozen=True)
class ParsedSkillFile:
    """The front matter fields and the markdown body of a skill file."""

    fields: dict[str, str]
    body: str


def _loader() -> type:
    """A safe YAML loader (libyaml's when present) that also refuses a key given twice."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class StrictLoader(base):  # type: ignore[misc, valid-type]
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, StrictLoader.construct_mapping)
    return StrictLoader


_LOADER: type | None = None
_STARTS_AT_CONTEXT = ("while scanning a simple key", "while scanning a quoted scalar")


def _text(value: Any) -> str:
    """A field as text: scalars as written, lists and tables as JSON (no field the app reads is one)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, datetime.date)):
        return str(value)
    return json.dumps(value, default=str)


def parse_front_matter(block: str, first_line: int = 2) -> dict[str, str]:
    """The `key: value` fields of a YAML block whose first line is line `first_line` of its file."""
    global _LOADER
    import yaml

    _LOADER = _LOADER or _loader()
    try:
        data = yaml.load(block, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        mark = getattr(exc, "problem_mark", None)
        if mark is None or context in _STARTS_AT_CONTEXT:  # the culprit is where the key or the quote began
            mark = getattr(exc, "context_mark", None) or mark
        where = f"line {mark.line + first_line}" if mark is not None else f"line {first_line}"
        raise FrontMatterError(f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        first = next((line.strip() for line in block.splitlines() if line.strip()), "")
        raise FrontMatterError(f"line {first_line}: expected 'key: value' lines, got {first!r}")
    return {str(key): _text(value) for key, value in data.items()}


def parse_skill_file(text: str) -> ParsedSkillFile:
    """Split `---` front matter from the body; raises FrontMatterError naming the bad line."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise FrontMatterError("line 1: expected '---' to open the front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration as exc:
        raise FrontMatterError("the front matter is not closed with '---'") from exc
    fields = parse_front_matter("\n".join(lines[1:end]), first_line=2)
    return ParsedSkillFile(fields, "\n".join(lines[end + 1 :]).strip() + "\n")
