"""The one file policy every agent tool goes through.

- A path is used only when it resolves (symlinks followed) inside the project; `.mimo/` may live elsewhere.
- Files that may hold secrets (`.env`, keys, `secrets.toml` ...) are read only after the user agreed: the
  permission rules make a call naming one ask, and tools that reach files without naming them (grep's walk,
  memory reads, MCP resources) leave them out and say how to read them.
- Git data (`.git/`, `.mimo/.git/`) is never written by a tool.
- mimo's own config files reach the model with their secret values masked.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from mimo_tui.agent.paths import PathRefused, display_path, resolve_in_project
from mimo_tui.secrets import holds_masked_value, mask_secrets
from mimo_tui.workspace import MIMO_DIR, user_config_dir

__all__ = [
    "PathRefused", "SECRET_NAME_PATTERNS", "SKIPPED_DIRS", "WalkResult", "check_read", "check_write", "display_path",
    "is_config_file", "is_git_data", "searchable_text", "may_hold_secrets", "refuse_masked_write", "resolve_in_project",
    "resource_text_for_model", "secret_permission_rules", "text_for_model", "walk_files", "withheld_note",
]

# File names (matched on the last path part) of files that may hold secrets.
SECRET_NAME_PATTERNS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc", "secrets.toml", ".netrc", ".pgpass", ".git-credentials", ".npmrc",
    ".pypirc", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
)
# Tools that read a file named by their `path`: a secret file there asks (see permissions.DEFAULT_RULES).
SECRET_READING_TOOLS = ("read_file", "grep")
SKIPPED_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", ".mypy_cache", ".pytest_cache"}
GIT_DIR = ".git"
CONFIG_NAMES = ("config.toml", "secrets.toml")


def secret_permission_rules(action: str) -> list[tuple[str, str, str]]:
    """Permission rules making reads of secret files `action` (ask), for paths at any depth."""
    return [
        (tool, glob, action)
        for tool in SECRET_READING_TOOLS
        for pattern in SECRET_NAME_PATTERNS
        for glob in (pattern, f"*/{pattern}")
    ]


_SECRET_NAME = re.compile("|".join(fnmatch.translate(pattern) for pattern in SECRET_NAME_PATTERNS))


def may_hold_secrets(path: Path, resolved: Path | None = None) -> bool:
    """Whether the file (by its own name or, for a symlink, its target's) may hold secrets."""
    resolved = resolved or path.resolve()
    return bool(_SECRET_NAME.match(path.name) or (resolved.name != path.name and _SECRET_NAME.match(resolved.name)))


def is_git_data(root: Path, path: Path) -> bool:
    """Whether `path` (as given, or resolved) lies in a `.git` folder or is a `.git` file of the project."""
    root = root.resolve()
    for candidate in (path if path.is_absolute() else root / path, (root / path).resolve()):
        for base in (root, (root / MIMO_DIR).resolve()):
            try:
                parts = candidate.relative_to(base).parts
            except ValueError:
                continue
            if GIT_DIR in parts:
                return True
    return False


def is_config_file(root: Path, path: Path) -> bool:
    """Whether `path` (a real path: symlinks resolved) is one of mimo's config files (project or user config,
    secrets.toml)."""
    if path.name not in CONFIG_NAMES and path.name != Path(os.environ.get("MIMO_CONFIG", "")).name:
        return False  # decided without resolving anything: the common case, once per file grep reads
    resolved = path.resolve()
    if resolved.name == "secrets.toml":
        return True
    if resolved.name == "config.toml" and resolved.parent.name == MIMO_DIR:
        return True
    if resolved == (root.resolve() / MIMO_DIR / "config.toml").resolve():
        return True
    user_config = os.environ.get("MIMO_CONFIG")
    user_paths = [user_config_dir() / "config.toml"] + ([Path(user_config)] if user_config else [])
    return any(resolved == candidate.resolve() for candidate in user_paths)


def check_read(root: Path, raw: str) -> Path:
    """The real path of a file or folder a tool reads; refuses one outside the project."""
    return resolve_in_project(root, raw)


def check_write(root: Path, raw: str) -> Path:
    """The real path of a file a tool writes; refuses one outside the project and git data."""
    path = resolve_in_project(root, raw)
    if is_git_data(root, Path(raw.strip()).expanduser()) or is_git_data(root, path):
        raise PathRefused(
            f"{raw} is inside git data ({display_path(root, path)}); tools never write .git or .mimo/.git. "
            "Memory files are committed by the app itself; use git commands (bash, which asks) for the repo"
        )
    return path


def text_for_model(root: Path, path: Path, text: str) -> str:
    """A file's text as the model may see it: mimo's config files with secret values masked."""
    if not is_config_file(root, path):
        return text
    return mask_secrets(text, every_value=path.resolve().name == "secrets.toml")


def refuse_masked_write(root: Path, path: Path, text: str) -> None:
    """Refuse writing masked values back into a config file (they would replace the real secrets)."""
    if is_config_file(root, path) and holds_masked_value(text):
        raise PathRefused(
            f"the new text of {display_path(root, path)} carries masked secret values (…(masked)); writing it "
            "would destroy the real ones. Change only the lines you need with edit_file, leaving the secret lines out"
        )


def withheld_note(shown: str) -> str:
    return f"{shown} may hold secrets and was not shown; read it with read_file, which asks the user first"


@dataclass
class WalkResult:
    """Files a search may read, and those it left out (with why)."""

    files: list[tuple[Path, Path]] = field(default_factory=list)  # (the path as found, its real path)
    secret: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """Lines telling the model what was left out and how to reach it."""
        lines = []
        if self.secret:
            names = ", ".join(self.secret[:5]) + (f" and {len(self.secret) - 5} more" if len(self.secret) > 5 else "")
            count = len(self.secret)
            lines.append(
                f"[{count} file{'s' if count != 1 else ''} that may hold secrets ({names}) "
                f"{'were' if count != 1 else 'was'} not searched; to include one, grep with path set to it "
                "or read it with read_file (both ask the user)]"
            )
        if self.outside:
            names = ", ".join(self.outside[:5]) + (f" and {len(self.outside) - 5} more" if len(self.outside) > 5 else "")
            lines.append(f"[{len(self.outside)} symlink(s) to files outside the project ({names}) not followed]")
        return lines


def walk_files(root: Path, start: Path, include: str = "") -> WalkResult:
    """The files under `start` a search may read, in `os.walk` order: inside the project, not secret.

    Folder links are not followed; a file link is followed only to a file inside the project. A `start` that
    is itself a file is searched whatever its name: the caller named it, so the permission rules (which ask
    for secret files) already covered it.
    """
    root = root.resolve()
    result = WalkResult()
    if start.is_file():
        result.files.append((start, start))
        return result
    folders = [start]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as found:
                entries = sorted(found, key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) or not entry.is_file():
                continue
            if include and not fnmatch.fnmatch(entry.name, include):
                continue
            path = Path(entry.path)
            resolved = path
            if entry.is_symlink():
                try:
                    resolved = resolve_in_project(root, entry.path)
                except (PathRefused, OSError):
                    result.outside.append(display_path(root, path))
                    continue
            if may_hold_secrets(path, resolved):
                result.secret.append(display_path(root, path))
                continue
            result.files.append((path, resolved))
        subfolders = [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and e.name not in SKIPPED_DIRS]
        folders.extend(reversed(subfolders))
    return result


def searchable_text(root: Path, path: Path, max_bytes: int) -> str | None:
    """A text file's content as the model may see it (`path` real: symlinks resolved); None for a binary, huge
    or unreadable file."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:4096]:
        return None
    return text_for_model(root, path, data.decode("utf-8", errors="replace"))


def resource_text_for_model(root: Path, uri: str, text: str) -> str:
    """The text of a resource an MCP tool returned, under the same policy when it is a local file."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return text
    raw = unquote(parsed.path)
    try:
        path = resolve_in_project(root, raw)
    except (PathRefused, OSError):
        return f"(not shown: {uri} is outside the project {root.resolve()}; tools show only files inside it)"
    if may_hold_secrets(Path(raw), path):
        return f"(not shown: {withheld_note(display_path(root, path))})"
    return text_for_model(root, path, text)
