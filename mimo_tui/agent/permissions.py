"""Permission rules: allow / ask / deny per tool with glob patterns on paths and commands; last match wins.

A bash command is judged part by part (see shell_command): every simple command must be allowed on
its own, a deny on any part denies, and a part that writes or runs other code asks unless a rule
names exactly that part or that whole command (what "always" stores).
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from typing import Any

from mimo_tui.agent.file_policy import secret_permission_rules
from mimo_tui.agent.shell_command import CommandPart, ParsedCommand, parse_command

ALLOW = "allow"
ASK = "ask"
DENY = "deny"
ACTIONS = (ALLOW, ASK, DENY)
SHELL_TOOLS = {"bash"}

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
    *(("agent", op, ALLOW) for op in ("status", "wait", "cancel")),  # starting a subagent asks (its sandbox shown)
    ("write_file", ".mimo/plans/*", ALLOW),
    # Each simple command of a bash line is judged on its own (see judge_command); `ls` but not `lsof`.
    *(("bash", pattern, ALLOW) for command in ("ls", "git status", "git diff", "git log") for pattern in (command, f"{command} *")),
    ("bash", "pwd", ALLOW),
    # Files that may hold secrets (.env, keys, secrets.toml ...) ask when read_file or grep names them.
    *secret_permission_rules(ASK),
)


GLOB_SPECIALS = {"*": "[*]", "?": "[?]", "[": "[[]"}


def exact_pattern(text: str) -> str:
    """A glob pattern that matches `text` and nothing else (`ls *.py` -> `ls [*].py`): what "always" stores."""
    return "".join(GLOB_SPECIALS.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class PartVerdict:
    """What the rules say about one part of a shell command, and why."""

    part: CommandPart
    action: str
    reason: str


@dataclass(frozen=True)
class CommandVerdict:
    """What the rules say about a whole shell command, with the verdict on each of its parts."""

    action: str
    reason: str
    parsed: ParsedCommand
    parts: tuple[PartVerdict, ...] = ()


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
        if tool in SHELL_TOOLS:
            return self.judge_command(tool, subject).action
        return self._last_match(tool, subject)

    def _last_match(self, tool: str, subject: str) -> str:
        action = ASK
        for rule in self.rules:
            if rule.matches(tool, subject):
                action = rule.action
        return action

    def _exactly_allowed(self, tool: str, text: str) -> bool:
        """A rule names exactly `text` and allows it, and no later rule matching `text` asks or denies."""
        allowed = False
        exact = exact_pattern(text)
        for rule in self.rules:
            if not rule.matches(tool, text):
                continue
            if rule.pattern == exact and rule.action == ALLOW:
                allowed = True
            elif rule.action != ALLOW:
                allowed = False
        return allowed

    def judge_command(self, tool: str, command: str) -> CommandVerdict:
        """The decision on a shell command and, per part, what decided it."""
        parsed = parse_command(command)
        whole = self._last_match(tool, command)
        if whole == DENY:
            return CommandVerdict(DENY, "a deny rule matches the whole command", parsed)
        exact = self._exactly_allowed(tool, command)
        if not parsed.parsed:
            if exact:
                return CommandVerdict(ALLOW, "a rule allows exactly this command", parsed)
            return CommandVerdict(ASK, str(parsed.error), parsed)
        verdicts = tuple(self._judge_part(tool, part) for part in parsed.parts)
        if any(v.action == DENY for v in verdicts):
            return CommandVerdict(DENY, "a deny rule matches a part of it", parsed, verdicts)
        if exact:
            return CommandVerdict(ALLOW, "a rule allows exactly this command", parsed, verdicts)
        if all(v.action == ALLOW for v in verdicts):
            return CommandVerdict(ALLOW, "every part is allowed", parsed, verdicts)
        return CommandVerdict(ASK, "some parts need your approval", parsed, verdicts)

    def _judge_part(self, tool: str, part: CommandPart) -> PartVerdict:
        action = self._last_match(tool, part.text)
        if action == DENY:
            return PartVerdict(part, DENY, "denied by a rule")
        if part.risks:
            if self._exactly_allowed(tool, part.text):
                return PartVerdict(part, ALLOW, "allowed exactly")
            return PartVerdict(part, ASK, "; ".join(part.risks))
        if action == ALLOW:
            return PartVerdict(part, ALLOW, "allowed")
        return PartVerdict(part, ASK, "no rule allows it")

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
