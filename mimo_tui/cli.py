"""The `mimo` entry point: the workbench by default, headless subcommands otherwise."""

from __future__ import annotations

import argparse
import importlib
import sys

from mimo_tui import __version__

# Each module has `register(subparsers)`; its handlers take the parsed args and return an exit code.
COMMAND_MODULES = [
    "mimo_tui.commands.memory",
    "mimo_tui.commands.config",
    "mimo_tui.commands.mcp",
    "mimo_tui.commands.history",
    "mimo_tui.commands.skill",
    "mimo_tui.commands.agent",
    "mimo_tui.commands.dream",
    "mimo_tui.commands.distill",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mimo",
        description="A terminal workbench for coding agents with git-versioned memory, and a skill trainer. "
        "With no command, opens the workbench for the current project.",
    )
    parser.add_argument("--version", action="version", version=f"mimo {__version__}")
    parser.add_argument("-c", "--continue", dest="resume", action="store_true", help="resume the last session")
    parser.add_argument("--model", help="model for this session (any litellm model string)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def workbench_args(argv: list[str]) -> argparse.Namespace | None:
    """The options of a plain `mimo` (the workbench), read without importing every subcommand (~25 ms of start-up).

    None when `argv` holds anything else (a command, --help, an abbreviation): the full parser reads those.
    """
    resume, model, rest = False, None, list(argv)
    while rest:
        token = rest.pop(0)
        if token in ("-c", "--continue"):
            resume = True
        elif token == "--model" and rest and not rest[0].startswith("-"):
            model = rest.pop(0)
        elif token.startswith("--model=") and len(token) > len("--model="):
            model = token.removeprefix("--model=")
        else:
            return None
    return argparse.Namespace(resume=resume, model=model, command=None)


def main(argv: list[str] | None = None) -> int:
    args = workbench_args(sys.argv[1:] if argv is None else argv)
    if args is None:
        args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        from mimo_tui.ui.launch import launch

        return launch(args)
    import sqlite3

    from mimo_tui import cli_errors
    from mimo_tui.store import StoreError

    # The one place where what the disk, a permission or a database refused becomes a message.
    try:
        code = int(handler(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except BrokenPipeError:
        return cli_errors.quiet_broken_pipe()
    except StoreError as exc:
        return _fail(str(exc))
    except sqlite3.Error as exc:
        return _fail(cli_errors.explain_database_error(exc))
    except OSError as exc:
        return _fail(cli_errors.explain_os_error(exc))
    except KeyboardInterrupt:
        print("mimo: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    try:
        print(f"mimo: {message}", file=sys.stderr)
    except OSError:
        pass
    return 2
