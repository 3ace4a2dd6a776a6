"""The grep tool: a regular-expression search over the project's text files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mimo_tui.agent.file_policy import check_read, display_path, searchable_text, walk_files
from mimo_tui.agent.tools.arguments import ToolInputError, bool_arg, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec

MAX_MATCHES = 200
MAX_FILE_BYTES = 2_000_000


def _search(root: Path, start: Path, regex: re.Pattern[str], include: str) -> tuple[list[str], int, list[str]]:
    walk = walk_files(root, start, include)
    matches: list[str] = []
    total = 0
    for path, real in walk.files:
        text = searchable_text(root, real, MAX_FILE_BYTES)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if regex.search(line):
                total += 1
                if len(matches) < MAX_MATCHES:
                    matches.append(f"{display_path(root, path)}:{number}: {line.strip()[:300]}")
    return matches, total, walk.notes()


class Grep(BlockingTool):
    """Search file contents with a regular expression."""

    read_only = True
    spec = ToolSpec(
        "grep",
        "Search the project's text files for a regular expression; prints path:line: text. "
        "Optional `path` (a folder, or one file), `include` (file-name glob like '*.py') and `ignore_case`. "
        "Files that may hold secrets (.env, keys) are searched only when `path` names them (that asks the user).",
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
        start = check_read(ctx.project_root, text_arg(args, "path", required=False, default=".") or ".")
        include = text_arg(args, "include", required=False)
        root = ctx.project_root.resolve()
        matches, total, notes = _search(root, start, regex, include)
        left_out = "".join(f"\n{note}" for note in notes)
        if not matches:
            return ToolResult(f"no matches for /{pattern}/" + left_out, summary="0 matches")
        more = f"\n[{total - len(matches)} more matches not shown; narrow the search]" if total > len(matches) else ""
        return ToolResult("\n".join(matches) + more + left_out, summary=f"{total} match(es)")
