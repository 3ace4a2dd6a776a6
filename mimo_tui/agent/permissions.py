"""Permission rules: allow / ask / deny per tool with glob patterns on paths and commands; last match wins."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from typing import Any

from mimo_tui.agent.file_policy import secret_permission_rules

ALLOW = "allow"
ASK = "ask"
DENY = "deny"
ACTIONS = (ALLOW, ASK, DENY)

# Defaults, overridden by config rules (which come later, so they win).
DEFAULT_RULES: tuple[tuple[str, str, str], ...] = (
    ("*", "*", ASK),
    ("read_file", "*", ALLOW),
    ("list_dir", "*", ALLOW),
    ("glob", "*", ALLOW),
    ("grep", "*", ALLOW),
    ("memory", "*", ALLOW),
    ("history", "*", ALLOW),
    ("task", "*", ALLOW),
    ("skill", "*", ALLOW),
    ("write_file", ".mimo/plans/*", ALLOW),
    ("bash", "ls*", ALLOW),
    ("bash", "pwd", ALLOW),
    ("bash", "git status*", ALLOW),
    ("bash", "git diff*", ALLOW),
    ("bash", "git log*", ALLOW),
    # Files that may hold secrets (.env, keys, secrets.toml ...) ask when read_file or grep names them.
    *secret_permission_rules(ASK),
)


class PermissionConfigError(ValueError):
    """A `[[permissions.rules]]` entry is malformed; the message names it."""


@dataclass(frozen=True)
class PermissionRule:
    """One rule: which tool (glob), which subject (glob on a path or command), what to do."""

    tool: str
    pattern: str
    action: str

    def matches(self, tool: str, subject: str) -> bool:
        return fnmatch.fnmatchcase(tool, self.tool) and fnmatch.fnmatchcase(subject, self.pattern)


@dataclass
class PermissionPolicy:
    """The ordered rules; the last rule matching a call decides."""

    rules: list[PermissionRule]

    @classmethod
    def from_config(cls, entries: Any, source: str = "config") -> PermissionPolicy:
        """Defaults followed by the `permissions.rules` list of the config."""
        rules = [PermissionRule(*rule) for rule in DEFAULT_RULES]
        return cls(rules + parse_rules(entries, source))

    def decide(self, tool: str, subject: str) -> str:
        action = ASK
        for rule in self.rules:
            if rule.matches(tool, subject):
                action = rule.action
        return action

    def add(self, rule: PermissionRule) -> None:
        self.rules.append(rule)


def parse_rules(entries: Any, source: str = "config") -> list[PermissionRule]:
    """Read `[{tool=..., pattern=..., action=...}, ...]`; raises PermissionConfigError naming the bad entry."""
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise PermissionConfigError(f"{source}: permissions.rules must be a list of tables, got {type(entries).__name__}")
    rules = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: permissions.rules entry {number}"
        if not isinstance(entry, dict):
            raise PermissionConfigError(f"{where} must be a table like {{tool=\"bash\", pattern=\"git *\", action=\"allow\"}}")
        unknown = set(entry) - {"tool", "pattern", "action"}
        if unknown:
            raise PermissionConfigError(f"{where} has unknown key(s) {', '.join(sorted(unknown))}")
        action = entry.get("action")
        if action not in ACTIONS:
            raise PermissionConfigError(f"{where}: action must be one of allow, ask, deny (got {action!r})")
        tool = entry.get("tool", "*")
        pattern = entry.get("pattern", "*")
        if not isinstance(tool, str) or not isinstance(pattern, str):
            raise PermissionConfigError(f"{where}: tool and pattern must be strings")
        rules.append(PermissionRule(tool, pattern, action))
    return rules


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_with_rule(text: str, rule: PermissionRule) -> str:
    """The project config text with `rule` appended as a `[[permissions.rules]]` table, keeping the rest as is."""
    block = (
        f"\n[[permissions.rules]]\ntool = {_toml_string(rule.tool)}\npattern = {_toml_string(rule.pattern)}\n"
        f"action = {_toml_string(rule.action)}\n"
    )
    candidate = (text.rstrip("\n") + "\n" if text.strip() else "") + block.lstrip("\n" if not text.strip() else "")
    try:
        tomllib.loads(candidate)
        return candidate
    except tomllib.TOMLDecodeError:
        pass
    # The rules were written inline (`rules = [...]`): rewrite the file from its parsed data.
    import tomli_w

    data = tomllib.loads(text)
    permissions = data.setdefault("permissions", {})
    rules = permissions.setdefault("rules", [])
    rules.append({"tool": rule.tool, "pattern": rule.pattern, "action": rule.action})
    return tomli_w.dumps(data)
