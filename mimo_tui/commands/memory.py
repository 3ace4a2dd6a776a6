"""`mimo memory log|show|diff|revert|repair|search|check|reindex|context`: memory and its history from the shell."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mimo_tui.project import Project
from mimo_tui.store import repair_memory_repo
from mimo_tui.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    memory = subparsers.add_parser("memory", help="memory files and their history")
    actions = memory.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    log = actions.add_parser("log", help="list commits of the memory repo (newest first)")
    log.add_argument("path", nargs="?", help="only commits touching this file (relative to .mimo/)")
    log.add_argument("-n", "--limit", type=int, default=50)
    log.set_defaults(handler=run_log)
    show = actions.add_parser("show", help="show a commit: message, stat and patch")
    show.add_argument("rev")
    show.set_defaults(handler=run_show)
    diff = actions.add_parser("diff", help="the change a commit made")
    diff.add_argument("rev")
    diff.add_argument("path", nargs="?")
    diff.set_defaults(handler=run_diff)
    revert = actions.add_parser("revert", help="undo a commit with a new commit")
    revert.add_argument("rev")
    revert.set_defaults(handler=run_revert)
    repair = actions.add_parser("repair", help="start a fresh history when the memory repo is damaged")
    repair.set_defaults(handler=run_repair)
    from mimo_tui.commands.memory_search import register_actions

    register_actions(actions)


def format_when(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def run_log(args: argparse.Namespace) -> int:
    project = Project.open()
    for info in project.store.log(args.path, limit=args.limit):
        print(f"{info.short}  {format_when(info.timestamp)}  {info.author:<17}  {info.message}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    sys.stdout.write(Project.open().store.show(args.rev))
    return 0


def run_diff(args: argparse.Namespace) -> int:
    sys.stdout.write(Project.open().store.diff(args.rev, args.path))
    return 0


def run_revert(args: argparse.Namespace) -> int:
    info = Project.open().store.revert(args.rev)
    print(f"{info.short}  {info.message}")
    return 0


def run_repair(args: argparse.Namespace) -> int:
    """Check the memory repo (git folder, HEAD, index, every object) and fix what is wrong, saying both."""
    folder = Workspace.locate(Path.cwd()).mimo_dir
    if not folder.is_dir():
        Project.open()  # nothing to repair: this creates the memory repo, as any first use does
        print(f"there was no memory repo; created {folder}")
        return 0
    print(repair_memory_repo(folder).text())
    return 0
