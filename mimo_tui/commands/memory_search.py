"""`mimo memory search|check|reindex|context`: the memory index, validators and context preview from the shell."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

SCOPE_CHOICES = ("global", "project", "session")
TYPE_CHOICES = ("memory", "checkpoint", "notes", "progress", "skill", "plan", "command", "agent", "other")


def register_actions(actions: argparse._SubParsersAction) -> None:
    search = actions.add_parser("search", help="full-text search over memory files (exit 1 when nothing matched)")
    search.add_argument("query", help="words to look for; punctuation and FTS5 operators are taken as plain text")
    search.add_argument("--scope", choices=SCOPE_CHOICES, action="append", help="only this scope (repeatable)")
    search.add_argument("--type", choices=TYPE_CHOICES, action="append", help="only this file type (repeatable)")
    search.add_argument("--session", help="only files of this session")
    search.add_argument("-n", "--limit", type=int, default=10)
    search.set_defaults(handler=run_search)
    check = actions.add_parser("check", help="validate every memory file (exit 1 when any error)")
    check.set_defaults(handler=run_check)
    reindex = actions.add_parser("reindex", help="rebuild the search index from the memory files")
    reindex.set_defaults(handler=run_reindex)
    context = actions.add_parser("context", help="preview the memory block injected into a session's context")
    context.add_argument("--session", help="session id (default: the most recently changed session)")
    context.add_argument("--window", type=int, help="the model's context window in tokens (default: model.context_window)")
    context.add_argument("--text", action="store_true", help="print the assembled text after the summary")
    context.set_defaults(handler=run_context)


def display_path(path: Path) -> str:
    """A path relative to the current folder when it is under it, else absolute."""
    try:
        return os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path)
    except (OSError, ValueError):
        return str(path)


def run_search(args: argparse.Namespace) -> int:
    from mimo_tui.memory.roots import memory_roots, open_memory_index
    from mimo_tui.project import Project

    project = Project.open()
    roots = memory_roots(project)
    for note in roots.notes:
        print(f"mimo: {note}", file=sys.stderr)
    index = open_memory_index(project, roots)
    hits = index.search(args.query, scope=args.scope, type=args.type, limit=max(args.limit, 1), session_id=args.session)
    if not hits:
        print(f"no matches for {args.query!r}", file=sys.stderr)
        return 1
    marks = ("\x1b[1;33m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")
    for hit in hits:
        print(f"{display_path(hit.path)}:{hit.line}  {hit.score:.3g}  {hit.scope}/{hit.type}  {hit.marked(*marks)}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from mimo_tui.memory.roots import memory_roots
    from mimo_tui.memory.validators import ERROR, validate_repo
    from mimo_tui.project import Project

    project = Project.open()
    roots = memory_roots(project)
    for note in roots.notes:
        print(f"mimo: {note}", file=sys.stderr)
    errors = warnings = 0
    for root, folder in roots.folders.items():
        for relpath, problems in validate_repo(folder, root).items():
            for problem in problems:
                print(f"{display_path(folder / relpath)}:{problem.line}: {problem.severity}: {problem.message}")
                errors += problem.severity == ERROR
                warnings += problem.severity != ERROR
    print(f"{errors} error(s), {warnings} warning(s)" if errors or warnings else "memory files are valid")
    return 1 if errors else 0


def run_reindex(args: argparse.Namespace) -> int:
    from mimo_tui.memory.roots import open_memory_index
    from mimo_tui.project import Project

    index = open_memory_index(Project.open())
    started = time.perf_counter()
    index.rebuild()
    files, chunks = index.counts()
    print(f"indexed {files} files ({chunks} chunks) in {(time.perf_counter() - started) * 1000:.0f} ms")
    return 0


def latest_session(sessions_dir: Path) -> str | None:
    """The id of the session whose folder changed last."""
    try:
        folders = [entry for entry in sessions_dir.iterdir() if entry.is_dir()]
    except OSError:
        return None
    return max(folders, key=lambda entry: entry.stat().st_mtime).name if folders else None


def run_context(args: argparse.Namespace) -> int:
    from mimo_tui.memory.context import ContextAssembler
    from mimo_tui.memory.roots import memory_roots
    from mimo_tui.memory.layers import GLOBAL_ROOT
    from mimo_tui.project import Project

    project = Project.open()
    roots = memory_roots(project)
    session = args.session or latest_session(project.workspace.sessions_dir) or "none"
    window = args.window or int(project.config.get("model.context_window", 128000))
    assembler = ContextAssembler(project.workspace.mimo_dir, roots.folders.get(GLOBAL_ROOT), display_root=project.root)
    block = assembler.build(session, window)
    print(f"session {session}, window {window} tokens")
    for part in block.blocks:
        source = f"  {display_path(part.source)}" if part.source and part.text else ""
        cut = f"  ({part.cut_tokens} cut)" if part.cut_tokens else ""
        print(f"  {part.name:<22} {part.tokens:>6} / {part.cap:<6}{cut}{source}")
    print(f"  {'total':<22} {block.tokens:>6}   resume line: {'yes' if block.resume_line else 'no'}")
    if args.text:
        print()
        print(block.text)
    return 0
