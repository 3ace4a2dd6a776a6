"""What the dashboard needs of a finished run's proposal: versions, edits, diffs, adopt, discard and branch.

Thin methods over skillopt.staging / adoption / branching, mixed into Services, so the UI never touches the run
folder or the memory repo itself. Each may raise StagingError or StoreError with a message meant for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mimo_tui.project import Project
    from mimo_tui.skillopt.adoption import Adoption


class TrainerProposals:
    """Mixed into Services: `runs_dir` and `require_project` come from there."""

    runs_dir: Path
    require_project: Callable[[], Project]

    def run_proposal(self, run_id: str) -> dict[str, Any]:
        """baseline/best/final scores, versions with their files, numbered edits with credit, spend, decision."""
        from mimo_tui.skillopt.staging import load_proposal

        return load_proposal(self.runs_dir / run_id)

    def run_version_files(self, run_id: str, version: int) -> dict[str, str]:
        from mimo_tui.skillopt.staging import version_files

        return version_files(self.runs_dir / run_id, version)

    def run_version_edits(self, run_id: str, version: int) -> list[dict[str, Any]]:
        from mimo_tui.skillopt.staging import version_edits

        return version_edits(self.runs_dir / run_id, version)

    def run_diff(self, run_id: str, old: int, new: int) -> str:
        """A unified diff over every file of two versions of a run."""
        from mimo_tui.skillopt.staging import diff_versions

        return diff_versions(self.runs_dir / run_id, old, new)

    def run_diff_live(self, run_id: str, version: int) -> str:
        """What adopting `version` would change in the live skill."""
        from mimo_tui.skillopt.staging import diff_against_live

        return diff_against_live(self.runs_dir / run_id, self.require_project().store, version)

    def check_adoptable(self, run_id: str) -> None:
        """Raises StagingError when the run's trainer process is still alive (its versions are still changing)."""
        from mimo_tui.skillopt.adoption import refuse_if_running

        refuse_if_running(self.runs_dir / run_id)

    def adopt_run(self, run_id: str, version: str | int | None = "best", edits: list[int] | None = None) -> Adoption:
        """One commit by skillopt into the live skill (or a StagingError naming the conflicting file)."""
        from mimo_tui.skillopt.adoption import adopt

        return adopt(self.require_project().store, self.runs_dir / run_id, version, edits)

    def discard_run(self, run_id: str) -> None:
        from mimo_tui.skillopt.adoption import discard

        discard(self.runs_dir / run_id)

    def branch_run(self, run_id: str, step: int, overrides: dict[str, Any] | None = None) -> str:
        """A new run from the parent's state after `step`, sharing its cache; its id (start it with --resume)."""
        from mimo_tui.skillopt.branching import branch_run

        return branch_run(self.runs_dir / run_id, step, overrides or {}).name
