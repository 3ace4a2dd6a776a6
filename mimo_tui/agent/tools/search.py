"""The grep tool: a regular-expression search over the project's text files."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any

from mimo_tui.agent.paths import display_path, resolve_in_project
from mimo_tui.agent.tools.arguments import ToolInputError, bool_arg, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.agent.tools.files import SKIPPED_DIRS

MAX_MATCHES = 200
MAX_FILE_BYTES = 2_000_000


def _search(root: Path, folder: Path, regex: re.Pattern[str], include: str) -> tuple[list[str], int]:
    matches: list[str] = []
    total = 0
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if include and not fnmatch.fnmatch(name, include):
                continue
            path = Path(current) / name
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            if b"\x00" in data[:4096]:
                continue
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
                if regex.search(line):
                    total += 1
                    if len(matches) < MAX_MATCHES:
                        matches.append(f"{display_path(root, path)}:{number}: {line.strip()[:300]}")
    return matches, total


class Grep(BlockingTool):
    """Search file contents with a regular expression."""

    read_only = True
    spec = ToolSpec(
        "grep",
        "Search the project's text files for a regular expression; prints path:line: text. "
        "Optional `path` (folder), `include` (file-name glob like '*.py') and `ignore_case`.",
        schema(
            {
                "pattern": {"type": "string"},
                "path": {"type": "string"},
                "include": {"type": "string"},
                "ignore_case": {"type": "boolean"},
            },
            ["pattern"],
        ),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        raw = args.get("path")
        return raw if isinstance(raw, str) and raw else "."

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        pattern = text_arg(args, "pattern")
        try:
            regex = re.compile(pattern, re.IGNORECASE if bool_arg(args, "ignore_case") else 0)
        except re.error as exc:
            raise ToolInputError(f"pattern is not a valid regular expression: {exc}") from exc
        folder = resolve_in_project(ctx.project_root, text_arg(args, "path", required=False, default=".") or ".")
        include = text_arg(args, "include", required=False)
        root = ctx.project_root.resolve()
        matches, total = _search(root, folder, regex, include)
        if not matches:
            return ToolResult(f"no matches for /{pattern}/", summary="0 matches")
        more = f"\n[{total - len(matches)} more matches not shown; narrow the search]" if total > len(matches) else ""
        return ToolResult("\n".join(matches) + more, summary=f"{total} match(es)")
