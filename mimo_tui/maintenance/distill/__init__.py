"""Distill: repeated workflows in session history, proposed as commands, skills or subagents; approved ones committed."""

from __future__ import annotations

from mimo_tui.maintenance.distill.engine import DISTILL, DistillPlan, DistillSettings, adopt, plan_distill
from mimo_tui.maintenance.distill.proposals import COMMAND, SKILL, SUBAGENT, Proposal

__all__ = ["COMMAND", "DISTILL", "SKILL", "SUBAGENT", "DistillPlan", "DistillSettings", "Proposal", "adopt",
           "plan_distill"]
