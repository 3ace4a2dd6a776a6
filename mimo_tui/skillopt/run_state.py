"""What a run remembers between segments (runtime_state.json) and the summary it ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mimo_tui.skillopt.config import TrainConfig
from mimo_tui.skillopt.spend import SpendTotals

# item id -> one score per sample; None marks an errored rollout
Scores = dict[str, list[float | None]]


def mean_score(scores: Scores) -> float | None:
    """The mean over every scored sample; None when nothing was scored."""
    values = [v for samples in scores.values() for v in samples if v is not None]
    return sum(values) / len(values) if values else None


@dataclass
class RunState:
    """What a resumed run needs: where it was, the versions and decisions so far, and what it spent."""

    phase: str = "baseline"
    epoch: int = 1
    next_step: int = 0
    global_step: int = 0
    version: int = 1
    incumbent_version: int = 1
    epoch_start_version: int = 1
    best_version: int = 1
    best_val: float | None = None
    baseline_val: float | None = None
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # accepted steps of several edits whose per-edit credit is still to score (gate_runner.pending_credit)
    pending_credit: list[dict[str, Any]] = field(default_factory=list)
    spent_calls: int = 0
    spent_usd: float = 0.0
    spent_prompt_tokens: int = 0
    spent_completion_tokens: int = 0
    stop_reason: str | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        state = cls()
        for key, value in data.items():
            if hasattr(state, key):
                setattr(state, key, value)
        return state


def build_summary(
    state: RunState, config: TrainConfig, run_id: str, models: tuple[str, str], spent: SpendTotals, cache_hits: int,
    stop_reason: str, test: dict[str, Any], segment_s: float,
) -> dict[str, Any]:
    """summary.json: baseline, best-on-validation and final skills, scored on validation and test, and the spend
    of every segment of the run (provider requests, retries included; cache hits are free)."""
    not_scored = {"version": None, "score": None, "coverage": 0.0, "note": f"not scored: {stop_reason}"}
    versions = state.versions
    return {
        "run_id": run_id,
        "skill": config.skill,
        "target": models[0],
        "optimizer": models[1],
        "completed": stop_reason == "finished",
        "stop_reason": stop_reason,
        "steps": state.global_step,
        "epochs_done": min(config.epochs, state.epoch - 1),
        "accepted_steps": [a["step"] for a in state.accepted],
        "rejected_steps": [h["step"] for h in state.history if h["action"] in ("reject", "undecided")],
        "history": state.history,
        "val": {
            "baseline": {"version": 1, "score": state.baseline_val},
            "best": {"version": state.best_version, "score": state.best_val},
            "final": {"version": state.incumbent_version, "score": (versions.get(str(state.incumbent_version)) or {}).get("val")},
        },
        "test": {label: test.get(label, not_scored) for label in ("baseline", "best", "final")},
        "spent": {
            "calls": spent.calls,
            "cache_hits_this_segment": cache_hits,
            "prompt_tokens": spent.prompt_tokens,
            "completion_tokens": spent.completion_tokens,
            "usd": round(spent.usd, 6),
            "cut_by_crash": spent.unsettled,
        },
        "elapsed_s": round(state.elapsed_s + segment_s, 2),
    }
