"""`mimo config`: the effective config and where each value came from (secret values masked)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimo_tui.config import describe, load_config, secrets_path, user_config_path
from mimo_tui.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help="print the effective config and the source of each value")
    config.set_defaults(handler=run_config)


def run_config(args: argparse.Namespace) -> int:
    from mimo_tui.store.secret_guard import secret_problem

    workspace = Workspace.locate(Path.cwd())
    config = load_config(workspace.config_file)
    print(f"# user config:     {user_config_path()}")
    print(f"# project config:  {workspace.config_file}")
    print(f"# project secrets: {secrets_path(workspace.config_file)} (never committed)")
    print(describe(config))
    for problem in config.problems:
        print(problem, file=sys.stderr)
    try:
        committed = workspace.config_file.read_bytes()
    except OSError:
        committed = None
    warning = secret_problem(workspace.config_file.name, committed)
    if warning:  # a warning, not a config error: the key still works, it is only kept out of history
        print(f"mimo: note: {warning}", file=sys.stderr)
    return 1 if config.problems else 0
