"""`mimo history search`: full-text search over the raw messages of past sessions."""

from __future__ import annotations

import argparse
import sys
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    history = subparsers.add_parser("history", help="search the raw history of past sessions")
    actions = history.add_subparsers(dest="history_command", metavar="ACTION", required=True)
    search = actions.add_parser("search", help="find messages, tool inputs, outputs and errors (exit 1 when none)")
    search.add_argument("query")
    search.add_argument("--session", help="only this session")
    search.add_argument("-n", "--limit", type=int, default=10)
    search.set_defaults(handler=run_search)


def run_search(args: argparse.Namespace) -> int:
    from mimo_tui.memory.history_index import HistoryIndex
    from mimo_tui.workspace import Workspace

    index = HistoryIndex(Workspace.locate().state_db)
    hits = index.search(args.query, limit=max(args.limit, 1), session_id=args.session)
    if not hits:
        print(f"no matches for {args.query!r}", file=sys.stderr)
        return 1
    marks = ("\x1b[1;33m", "\x1b[0m") if sys.stdout.isatty() else ("[", "]")
    for hit in hits:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(hit.created_at))
        print(f"{hit.session_id}  #{hit.message_id}  {when}  {hit.kind:<11} {hit.score:.3g}  {hit.marked(*marks)}")
    return 0
