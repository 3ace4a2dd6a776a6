"""Dream: consolidate the project's memory (dedupe, absolute dates, checked paths, caps) in one `dream` commit."""

from __future__ import annotations

from mimo_tui.maintenance.dream.engine import DREAM, DreamSettings, apply_plan, plan_dream, run_dream
from mimo_tui.maintenance.dream.review import DreamReview

__all__ = ["DREAM", "DreamReview", "DreamSettings", "apply_plan", "plan_dream", "run_dream"]
