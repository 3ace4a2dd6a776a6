"""Agent modes: build may use every tool; plan is read-only except for plan files under `.mimo/plans/`;
compose may use every tool and works spec-first: a goal becomes a spec and a plan of tasks, done one by one."""

from __future__ import annotations

import fnmatch

BUILD = "build"
PLAN = "plan"
COMPOSE = "compose"
MODES = (BUILD, PLAN, COMPOSE)
READ_ONLY_MODES = (PLAN,)
PLAN_WRITABLE = ".mimo/plans/*"


def next_mode(mode: str) -> str:
    """The mode Tab switches to."""
    return MODES[(MODES.index(mode) + 1) % len(MODES)] if mode in MODES else BUILD


def plan_mode_refusal(tool: str, read_only: bool, relpath: str | None) -> str | None:
    """Why plan mode refuses this call, or None when it may run."""
    if read_only:
        return None
    if tool in ("write_file", "edit_file") and relpath is not None and fnmatch.fnmatchcase(relpath, PLAN_WRITABLE):
        return None
    return (
        f"plan mode is read-only: {tool} is not allowed"
        + (f" on {relpath}" if relpath else "")
        + ". Write the plan to a file under .mimo/plans/ instead, or ask the user to switch to build mode (Tab)."
    )
