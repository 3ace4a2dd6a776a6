"""The skill trainer: SkillOpt-style optimisation of SKILL.md files (async, UI-free, typed events)."""

from mimo_tui.skillopt.run_folder import RunInfo, list_runs, load_run, read_events

__all__ = ["RunInfo", "list_runs", "load_run", "read_events"]
