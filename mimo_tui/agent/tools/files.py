"""File tools: read_file, write_file, edit_file, list_dir and glob, confined to the project."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from mimo_tui.agent.file_policy import (
    SKIPPED_DIRS, PathRefused, check_read, check_write, display_path, refuse_masked_write, text_for_model,
)
from mimo_tui.agent.paths import memory_relpath
from mimo_tui.agent.tools.arguments import ToolInputError, int_arg, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.secrets import holds_masked_value
from mimo_tui.atomic_file import atomic_write
from mimo_tui.store import Writer

MAX_READ_CHARS = 60_000
MAX_LIST_ENTRIES = 500


def _source(args: dict[str, Any], ctx: ToolContext) -> Path:
    return check_read(ctx.project_root, text_arg(args, "path"))


def _target(args: dict[str, Any], ctx: ToolContext) -> Path:
    return check_write(ctx.project_root, text_arg(args, "path"))


def _subject(args: dict[str, Any], key: str = "path") -> str:
    raw = args.get(key)
    if not isinstance(raw, str):
        return ""
    return Path(raw.strip()).as_posix().removeprefix("./") or "."


def write_text(ctx: ToolContext, path: Path, text: str, what: str) -> None:
    """Write a file: through the versioned store inside `.mimo/`, atomically elsewhere."""
    rel = memory_relpath(ctx.project_root, path)
    store = ctx.services.get("store")
    if rel is not None and store is not None:
        store.write(rel, text, Writer("agent", session_id=ctx.session_id), message=f"agent: {what} {rel}")
        return
    atomic_write(path, text.encode("utf-8"))


MAX_READ_BYTES = 20 * 1024 * 1024


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_READ_BYTES:
        raise ToolInputError(f"{path.name} is {size // (1024 * 1024)} MB, too large to read whole; "
                             "use grep, or bash with head/sed for a part")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise ToolInputError(f"{path.name} is a binary file ({len(data)} bytes); it cannot be shown as text")
    return data.decode("utf-8", errors="replace")


def shown_diff(root: Path, path: Path, old: str, new: str) -> str:
    """The diff of a write as the model and the prompt show it: mimo's config files with secret values masked."""
    return unified_diff(text_for_model(root, path, old), text_for_model(root, path, new), display_path(root, path))


def unified_diff(old: str, new: str, name: str) -> str:
    """A unified diff; for mimo's config files compare masked texts (`shown_diff`), never the secrets."""
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


class ReadFile(BlockingTool):
    """Read a text file, optionally a range of lines."""

    read_only = True
    spec = ToolSpec(
        "read_file",
        "Read a text file of the project. Lines are numbered; use start_line/end_line (1-based, inclusive) for a range.",
        schema(
            {
                "path": {"type": "string", "description": "path relative to the project root"},
                "start_line": {"type": "integer"},
                "end_line": {"type": "integer"},
            },
            ["path"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        return _subject(args)

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = _source(args, ctx)
        if path.is_dir():
            return ToolResult(f"{display_path(ctx.project_root, path)} is a folder; use list_dir", is_error=True)
        if not path.exists():
            return ToolResult(f"{display_path(ctx.project_root, path)} does not exist", is_error=True)
        lines = text_for_model(ctx.project_root, path, _read_text(path)).splitlines()
        start = int_arg(args, "start_line", 1) or 1
        end = int_arg(args, "end_line", len(lines)) or len(lines)
        if start < 1 or end < start:
            raise ToolInputError(f"bad line range {start}-{end}; the file has {len(lines)} lines")
        chosen = lines[start - 1 : end]
        width = len(str(end))
        body = "\n".join(f"{number:>{width}}  {line}" for number, line in enumerate(chosen, start=start))
        note = ""
        if len(body) > MAX_READ_CHARS:
            body = body[:MAX_READ_CHARS]
            note = f"\n[truncated at {MAX_READ_CHARS} characters; read a smaller line range]"
        shown = f"lines {start}-{min(end, len(lines))} of {len(lines)}"
        return ToolResult(body + note, summary=f"{display_path(ctx.project_root, path)} ({shown})")


class WriteFile(BlockingTool):
    """Create or overwrite a file with the given text."""

    read_only = False
    spec = ToolSpec(
        "write_file",
        "Create or overwrite a text file of the project with `content`. Prefer edit_file for changes to existing files.",
        schema({"path": {"type": "string"}, "content": {"type": "string"}}, ["path", "content"]),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        return _subject(args)

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        path = _target(args, ctx)
        old = _read_text(path) if path.is_file() else ""
        return shown_diff(ctx.project_root, path, old, text_arg(args, "content"))

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path = _target(args, ctx)
        content = text_arg(args, "content")
        if path.is_dir():
            return ToolResult(f"{display_path(ctx.project_root, path)} is a folder", is_error=True)
        refuse_masked_write(ctx.project_root, path, content)
        existed = path.exists()
        write_text(ctx, path, content, "wrote")
        verb = "overwrote" if existed else "created"
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        shown = display_path(ctx.project_root, path)
        return ToolResult(f"{verb} {shown} ({lines} lines)", summary=f"{verb} {shown}")


class EditFile(BlockingTool):
    """Replace one exact occurrence of a text in a file."""

    read_only = False
    spec = ToolSpec(
        "edit_file",
        "Replace an exact text in a file. `old_text` must occur exactly once (include surrounding lines to make it "
        "unique) unless replace_all is true.",
        schema(
            {
                "path": {"type": "string"},
                "old_text": {"type": "string"},
                "new_text": {"type": "string"},
                "replace_all": {"type": "boolean"},
            },
            ["path", "old_text", "new_text"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        return _subject(args)

    def _edited(self, args: dict[str, Any], ctx: ToolContext) -> tuple[Path, str, str, int]:
        path = _target(args, ctx)
        shown = display_path(ctx.project_root, path)
        if not path.is_file():
            raise ToolInputError(f"{shown} does not exist; use write_file to create it")
        old_text = text_arg(args, "old_text")
        new_text = text_arg(args, "new_text")
        if not old_text:
            raise ToolInputError("old_text is empty; give the exact text to replace")
        original = _read_text(path)
        count = original.count(old_text)
        if count == 0:
            if holds_masked_value(old_text):
                raise ToolInputError(
                    f"old_text carries a masked secret value (…(masked)), which is not what {shown} holds; "
                    "leave the secret lines out of old_text and new_text"
                )
            hint = ""
            first = old_text.strip().splitlines()[0] if old_text.strip() else ""
            if first and first.strip() in original:
                line = original[: original.index(first.strip())].count("\n") + 1
                hint = f" Its first line occurs at line {line}; check whitespace and the following lines (read_file to see them)."
            raise ToolInputError(f"old_text was not found in {shown}.{hint}")
        refuse_masked_write(ctx.project_root, path, new_text)
        replace_all = args.get("replace_all", False) is True
        if count > 1 and not replace_all:
            lines = []
            start = 0
            for _ in range(count):
                found = original.index(old_text, start)
                lines.append(str(original[:found].count("\n") + 1))
                start = found + 1
            raise ToolInputError(
                f"old_text occurs {count} times in {shown} (at lines {', '.join(lines)}); include more surrounding "
                "text to make it unique, or set replace_all to true"
            )
        updated = original.replace(old_text, new_text) if replace_all else original.replace(old_text, new_text, 1)
        return path, original, updated, count if replace_all else 1

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        path, original, updated, _ = self._edited(args, ctx)
        return shown_diff(ctx.project_root, path, original, updated)

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        path, original, updated, replaced = self._edited(args, ctx)
        write_text(ctx, path, updated, "edited")
        shown = display_path(ctx.project_root, path)
        diff = shown_diff(ctx.project_root, path, original, updated)
        return ToolResult(f"edited {shown}: {replaced} replacement(s)\n{diff}", summary=f"edited {shown}")


class ListDir(BlockingTool):
    """List the entries of a folder."""

    read_only = True
    spec = ToolSpec(
        "list_dir",
        "List files and folders in a folder of the project (folders end with '/').",
        schema({"path": {"type": "string", "description": "folder relative to the project root; '.' for the root"}}, []),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        return _subject(args) or "."

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raw = text_arg(args, "path", required=False, default=".") or "."
        folder = check_read(ctx.project_root, raw)
        shown = display_path(ctx.project_root, folder)
        if not folder.is_dir():
            return ToolResult(f"{shown} is not a folder", is_error=True)
        entries = sorted(os.scandir(folder), key=lambda e: (not e.is_dir(), e.name.lower()))
        names = [e.name + ("/" if e.is_dir() else "") for e in entries]
        more = ""
        if len(names) > MAX_LIST_ENTRIES:
            more = f"\n[{len(names) - MAX_LIST_ENTRIES} more entries not shown]"
            names = names[:MAX_LIST_ENTRIES]
        body = "\n".join(names) if names else "(empty folder)"
        return ToolResult(body + more, summary=f"{shown}: {len(entries)} entries")


class Glob(BlockingTool):
    """Find files by glob pattern."""

    read_only = True
    spec = ToolSpec(
        "glob",
        "Find files of the project matching a glob pattern like '**/*.py' (relative to the project root).",
        schema({"pattern": {"type": "string"}}, ["pattern"]),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        return _subject(args, key="pattern")

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        pattern = text_arg(args, "pattern").strip().removeprefix("./")
        if pattern in (".", ""):
            raise ToolInputError("pattern names no files; use a glob like '**/*.py', or list_dir for a folder")
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise ToolInputError("pattern must be relative to the project root and must not contain '..'")
        root = ctx.project_root.resolve()
        found = []
        for path in root.glob(pattern):
            if any(part in SKIPPED_DIRS for part in path.relative_to(root).parts):
                continue
            try:
                check_read(root, str(path))
            except PathRefused:
                continue
            found.append(path.relative_to(root).as_posix() + ("/" if path.is_dir() else ""))
            if len(found) >= MAX_LIST_ENTRIES:
                break
        found.sort()
        body = "\n".join(found) if found else f"no files match {pattern}"
        return ToolResult(body, summary=f"{len(found)} match(es) for {pattern}")
