"""Does a memory entry's cited file path or code symbol exist in the project? Paths are relative to its root."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_CODE = re.compile(r"`([^`\n]+)`")
_BARE_PATH = re.compile(r"(?<![\w`/])((?:\.{0,2}/)?[\w.-]+(?:/[\w.-]+)+/?|[\w-]+\.(?:py|md|toml|json|ya?ml|txt|cfg|ini|sh|js|ts|tsx|jsx|rs|go|c|h|cpp|java|rb|lock|tcss|sql|html|css))(?![\w/])")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(\))?$")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
MAX_SOURCE_BYTES = 1_000_000
MAX_SOURCE_FILES = 5000


def cited_paths(body: str) -> list[str]:
    """File paths an entry cites: code spans and bare words shaped like `dir/file` or `name.ext`."""
    found: list[str] = []
    spans = _CODE.findall(body)
    for span in spans:
        span = span.strip()
        if " " in span or "://" in span or any(ch in span for ch in "*?<>{}$"):
            continue
        if "/" in span or (_EXTENSION.search(span) and not _IDENTIFIER.match(span)):
            found.append(span)
    outside = _CODE.sub(" ", body)
    for match in _BARE_PATH.finditer(outside):
        word = match.group(1).rstrip(".")
        if "://" in outside[max(0, match.start() - 8): match.end()] or word.startswith(("http", "www.")):
            continue
        if "/" in word or _EXTENSION.search(word):
            found.append(word)
    return list(dict.fromkeys(found))


def cited_symbols(body: str) -> list[str]:
    """Code symbols an entry cites in code spans: calls `f()`, dotted names, snake_case or CamelCase names."""
    symbols = []
    for span in _CODE.findall(body):
        span = span.strip()
        if not _IDENTIFIER.match(span) or "/" in span:
            continue
        if _EXTENSION.search(span) and "(" not in span and span.count(".") == 1 and span.split(".")[1].islower() and len(span.split(".")[1]) <= 4:
            continue  # `app.py` is a file, checked as a path
        plain = span.removesuffix("()")
        if span.endswith("()") or "." in plain or "_" in plain or any(c.isupper() for c in plain[1:]):
            symbols.append(plain)
    return list(dict.fromkeys(symbols))


@dataclass
class ProjectFacts:
    """What exists in the project: its files (by path) and, read on first need, the text of its source files."""

    root: Path
    _sources: list[str] | None = field(default=None, repr=False)
    _symbol_cache: dict[str, bool] = field(default_factory=dict, repr=False)

    def has_path(self, cited: str) -> bool:
        rel = cited.strip().removeprefix("./")
        if not rel or rel.startswith("~") or Path(rel).is_absolute():
            return Path(rel).expanduser().exists() if rel else True
        return (self.root / rel).exists() or (self.root / ".mimo" / rel).exists()

    def has_symbol(self, symbol: str) -> bool:
        if symbol not in self._symbol_cache:
            last = symbol.split(".")[-1]
            pattern = re.compile(rf"\b{re.escape(last)}\b")
            self._symbol_cache[symbol] = any(pattern.search(text) for text in self._source_texts())
        return self._symbol_cache[symbol]

    def _source_texts(self) -> list[str]:
        if self._sources is None:
            self._sources = []
            for rel in self._files()[:MAX_SOURCE_FILES]:
                path = self.root / rel
                try:
                    if path.stat().st_size <= MAX_SOURCE_BYTES:
                        self._sources.append(path.read_text(encoding="utf-8", errors="ignore"))
                except OSError:
                    continue
        return self._sources

    def _files(self) -> list[str]:
        """The project's files as git knows them (tracked and untracked, not ignored); a plain walk outside git."""
        try:
            proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                  cwd=self.root, capture_output=True, text=True, timeout=20)
            if proc.returncode == 0:
                return [rel for rel in proc.stdout.split("\0") if rel and not rel.startswith(".mimo/")]
        except (OSError, subprocess.SubprocessError):
            pass
        files = []
        for path in self.root.rglob("*"):
            if any(part.startswith(".") for part in path.relative_to(self.root).parts):
                continue
            if path.is_file():
                files.append(path.relative_to(self.root).as_posix())
            if len(files) >= MAX_SOURCE_FILES:
                break
        return files


def missing_citations(body: str, facts: ProjectFacts) -> list[str]:
    """Paths and symbols the entry cites that the project does not have."""
    missing = [path for path in cited_paths(body) if not facts.has_path(path)]
    missing += [symbol for symbol in cited_symbols(body) if not facts.has_symbol(symbol)]
    return missing
