"""Starts the workbench from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path


def launch(args: argparse.Namespace) -> int:
    from mimo_tui.ui.app import MimoApp

    app = MimoApp(start_dir=Path.cwd(), resume=bool(getattr(args, "resume", False)), model=getattr(args, "model", None))
    app.run()
    return app.return_code or 0
