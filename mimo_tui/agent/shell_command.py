"""A shell command taken apart as bash would run it: its simple commands, substitutions and redirections.

Permission rules are matched against each part on its own, so `ls; touch /x` is two commands, not one
that starts with `ls`. The parse uses bashlex (a port of bash's own grammar); whatever it cannot
parse is reported as such, and the caller asks rather than guesses.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from mimo_tui.agent.shell_risks import DEV_FILES, options_matter, program_risks

COMMAND = "command"
SUBSTITUTION = "substitution"
REDIRECT = "redirect"

WRITING_REDIRECTS = {">", ">>", ">|", "&>", "&>>", "<>", ">&"}
CONTAINERS = {"list", "pipeline", "compound", "if", "for", "while", "until", "function"}
INERT = {"operator", "pipe", "reservedword", "tilde", "heredoc"}
CODE_IN_TEXT = ("$(", "`", "<(", ">(")
MAX_COMMAND_CHARS = 10_000
MAX_PARSE_CALLS = 1_500_000
MAX_PARSE_SECONDS = 0.5
BRACES = re.compile(r"\{[^{}]*(,|\.\.)[^{}]*\}")


@dataclass(frozen=True)
class CommandPart:
    """One thing the shell will run: a simple command, a substitution, or a redirection of a compound."""

    text: str
    kind: str = COMMAND
    writes: tuple[str, ...] = ()
    runs_code: tuple[str, ...] = ()

    @property
    def risks(self) -> tuple[str, ...]:
        return self.writes + self.runs_code


@dataclass(frozen=True)
class ParsedCommand:
    """The parts of a command in the order they appear, or why it could not be parsed (then no parts)."""

    source: str
    parts: tuple[CommandPart, ...] = ()
    error: str | None = None

    @property
    def parsed(self) -> bool:
        return self.error is None


class _Unparseable(Exception):
    pass


@dataclass
class _Walker:
    source: str
    parts: list[CommandPart] = field(default_factory=list)

    def text(self, node: Any) -> str:
        start, end = node.pos
        return self.source[start:end]

    def walk(self, node: Any) -> None:
        kind = node.kind
        if kind == "command":
            self.command(node)
        elif kind in ("commandsubstitution", "processsubstitution"):
            what = "command substitution" if kind == "commandsubstitution" else "process substitution"
            self.parts.append(CommandPart(self.text(node), SUBSTITUTION, runs_code=(f"{what} runs a command",)))
            self.walk(node.command)
        elif kind in CONTAINERS:
            for child in getattr(node, "parts", None) or getattr(node, "list", None) or []:
                self.walk(child)
            for redirect in getattr(node, "redirects", None) or []:
                writes, code = self.redirect(redirect)
                if writes or code:
                    self.parts.append(CommandPart(self.text(redirect), REDIRECT, tuple(writes), tuple(code)))
        elif kind in ("word", "assignment"):
            for child in getattr(node, "parts", None) or []:
                self.walk(child)
        elif kind == "parameter":
            value = getattr(node, "value", "") or ""
            if any(marker in value for marker in CODE_IN_TEXT) or "@P" in value:
                self.parts.append(CommandPart(self.text(node), SUBSTITUTION, runs_code=("this expansion runs a command",)))
        elif kind not in INERT:
            raise _Unparseable(f"unsupported shell construct ({kind})")

    def redirect(self, node: Any) -> tuple[list[str], list[str]]:
        """Why a redirection writes (a file other than /dev/null; fd duplication is harmless) or runs code."""
        writes: list[str] = []
        code: list[str] = []
        target = node.output
        if hasattr(target, "kind"):
            self.walk(target)
            if node.type in WRITING_REDIRECTS and target.word not in DEV_FILES:
                writes.append(f"writes to {target.word}")
        heredoc = getattr(node, "heredoc", None)
        if heredoc is not None and hasattr(target, "kind"):
            delimiter = self.text(target)
            quoted = any(mark in delimiter for mark in ("'", '"', "\\"))
            if not quoted and (any(marker in heredoc.value for marker in ("$(", "`")) or "@P" in heredoc.value):
                code.append("the here-document runs a command substitution")
        return writes, code

    def _may_become_options(self, word: Any) -> bool:
        """An argument whose final words are decided by the shell at run time: a variable (split on $IFS), a glob
        that may match a file named like an option, or a brace expansion that may produce one."""
        raw = self.text(word)
        return _expands(word) or raw[:1] in ("*", "?", "[") or (word.word[:1] in ("-", "{") and bool(BRACES.search(word.word)))

    def command(self, node: Any) -> None:
        words = [p for p in node.parts if p.kind == "word"]
        assignments = [p for p in node.parts if p.kind == "assignment"]
        redirects = [p for p in node.parts if p.kind == "redirect"]
        writes: list[str] = []
        code: list[str] = []
        for redirect in redirects:
            redirect_writes, redirect_code = self.redirect(redirect)
            writes += redirect_writes
            code += redirect_code
        if words:
            if assignments:
                names = ", ".join(a.word.split("=", 1)[0] for a in assignments)
                code.append(f"runs with a changed environment ({names}), which can change what it runs")
            program = words[0]
            if _expands(program) or _is_glob(self.text(program)) or BRACES.search(program.word):
                code.append("the program to run is only known when it runs")
            args = words[1:]
            if options_matter(program.word):
                options = args[: [w.word for w in args].index("--")] if any(w.word == "--" for w in args) else args
                unknown = [self.text(w) for w in options if self._may_become_options(w)]
                if unknown:
                    code.append(f"its arguments are only known when it runs ({', '.join(unknown)})")
            program_writes, program_code = program_risks(program.word, [w.word for w in args])
            writes += program_writes
            code += program_code
        self.parts.append(CommandPart(self.text(node), COMMAND, tuple(writes), tuple(code)))
        for part in node.parts:
            if part.kind in ("word", "assignment"):
                self.walk(part)


def _expands(word: Any) -> bool:
    return any(p.kind in ("parameter", "commandsubstitution", "processsubstitution") for p in getattr(word, "parts", None) or [])


def _is_glob(text: str) -> bool:
    return "*" in text or "?" in text or ("[" in text and "]" in text)


class _TooComplex(BaseException):
    """Raised inside bashlex when a parse runs past its budget (a BaseException, so bashlex cannot swallow it)."""


class _Budget:
    """A trace hook that stops a parse after too many calls or too long: bashlex loops forever, eating memory,
    on some malformed input (an unclosed `${`), and the decision must never hang the agent."""

    def __init__(self, max_calls: int, max_seconds: float) -> None:
        self.calls = 0
        self.max_calls = max_calls
        self.deadline = time.perf_counter() + max_seconds

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self.calls += 1
            if self.calls > self.max_calls or (self.calls % 512 == 0 and time.perf_counter() > self.deadline):
                raise _TooComplex
        return None  # no line-by-line tracing inside the frame


def _parse_within_budget(source: str) -> list[Any]:
    import bashlex  # imported here: it builds its parser tables on import (about 50 ms)

    previous = sys.gettrace()
    sys.settrace(_Budget(MAX_PARSE_CALLS, MAX_PARSE_SECONDS))
    try:
        return bashlex.parse(source)
    finally:
        sys.settrace(previous)


def parse_command(source: str) -> ParsedCommand:
    """Take `source` apart as bash would; a command bashlex cannot parse comes back with `error` set."""
    if not source.strip():
        return ParsedCommand(source, error="the command is empty")
    stripped = source.rstrip()
    if (len(stripped) - len(stripped.rstrip("\\"))) % 2:  # bash runs a trailing `\` as a command; bashlex drops it
        return ParsedCommand(source, error="the command ends with a lone backslash")
    if len(source) > MAX_COMMAND_CHARS:
        return ParsedCommand(source, error=f"the command is too long to check ({len(source)} characters)")
    try:
        trees = _parse_within_budget(source)
    except _TooComplex:
        return ParsedCommand(source, error="the command is too complex to check")
    except RecursionError:
        return ParsedCommand(source, error="the command is nested too deeply to check")
    except Exception as exc:  # bashlex raises ParsingError, NotImplementedError and sometimes its own bugs
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return ParsedCommand(source, error=f"the command cannot be parsed ({reason})")
    walker = _Walker(source)
    try:
        for tree in trees:
            walker.walk(tree)
    except _Unparseable as exc:
        return ParsedCommand(source, error=f"the command cannot be checked: {exc}")
    except (AttributeError, TypeError, RecursionError) as exc:
        return ParsedCommand(source, error=f"the command cannot be checked ({type(exc).__name__})")
    if not walker.parts:
        return ParsedCommand(source, error="the command has nothing to run")
    return ParsedCommand(source, tuple(walker.parts))
