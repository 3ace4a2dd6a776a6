"""mimo-tui: a terminal workbench for coding agents with git-versioned memory and a skill trainer."""

__version__ = "0.1.0"
