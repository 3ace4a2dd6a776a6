"""`mimo config`: the effective config and where each value came from."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mimo_tui.config import describe, load_config, user_config_path
from mimo_tui.workspace import Workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    config = subparsers.add_parser("config", help="print the effective config and the source of each value")
    config.set_defaults(handler=run_config)


def run_config(args: argparse.Namespace) -> int:
    workspace = Workspace.locate(Path.cwd())
    config = load_config(workspace.config_file)
    print(f"# user config:    {user_config_path()}")
    print(f"# project config: {workspace.config_file}")
    print(describe(config))
    for problem in config.problems:
        print(problem, file=sys.stderr)
    return 1 if config.problems else 0
