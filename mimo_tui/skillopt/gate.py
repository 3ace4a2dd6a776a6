"""The paired validation gate: candidate and incumbent scored on the same items and sample indices, judged by an
exact one-sided sign-flip test on the per-item differences, so a change within the noise is never an accept."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

FLIPS = ("improved", "regressed", "still_failing", "stable")
PASS_SCORE = 1.0 - 1e-9
# Per-item differences are compared on a grid of 1/840 (840 = lcm(1..8)): exact for pass/fail scores
# averaged over up to 8 samples, a rounding of 0.0006 at most otherwise.
GRID = 840

# item id -> one score per sample index; None marks an errored rollout (missing data, not a zero)
ItemScores = Mapping[str, Sequence[float | None]]


@dataclass(frozen=True)
class GateDecision:
    """accept, reject or undecided; per-item flips; the evidence; why.

    `incumbent` and `candidate` are means over items of each item's paired sample mean. `p_value` is the
    chance of a gain at least this large if the edit changed nothing (one-sided sign-flip test over the
    items whose paired means differ). `more_samples_help` marks a decision within the noise (some item improved,
    the candidate is not clearly worse) that more samples of the flipped items may change.
    """

    action: str
    flips: dict[str, str]
    reason: str
    incumbent: float | None = None
    candidate: float | None = None
    coverage: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    p_value: float | None = None
    samples: int = 0
    alpha: float = 0.1
    more_samples_help: bool = False

    @property
    def delta(self) -> float | None:
        if self.incumbent is None or self.candidate is None:
            return None
        return self.candidate - self.incumbent

    def evidence(self) -> dict[str, Any]:
        """What the decision rests on, for the step record and the gate event."""
        return {"improved": self.counts.get("improved", 0), "regressed": self.counts.get("regressed", 0),
                "items": len(self.flips), "paired_samples": self.samples,
                "p_value": None if self.p_value is None else float(f"{self.p_value:.3g}"), "alpha": self.alpha,
                "incumbent": self.incumbent, "candidate": self.candidate, "coverage": round(self.coverage, 4)}


def _flip(inc: float, cand: float) -> str:
    if cand > inc + 1e-12:
        return "improved"
    if cand < inc - 1e-12:
        return "regressed"
    return "stable" if inc >= PASS_SCORE else "still_failing"


def sign_flip_p_value(differences: Sequence[float]) -> float:
    """One-sided exact p-value of sum(differences) under random signs (each item's change as likely either way).

    With one pass/fail sample per item this is the exact sign test on improved vs regressed items; with more
    samples an item that flipped by a hair weighs less than one that flipped every time.
    """
    signed = [q for q in (round(d * GRID) for d in differences) if q]
    if not signed:
        return 1.0
    unit = reduce(math.gcd, (abs(q) for q in signed))
    steps = [abs(q) // unit for q in signed]
    observed = sum(q // unit for q in signed)
    total = sum(steps)
    counts = [0] * (2 * total + 1)  # counts[s + total]: sign patterns whose signed sum is s
    counts[total] = 1
    for step in steps:
        shifted = [0] * len(counts)
        for index, ways in enumerate(counts):
            if ways:
                shifted[index + step] += ways
                shifted[index - step] += ways
        counts = shifted
    at_least = sum(counts[observed + total :])
    return at_least / 2 ** len(steps)


def evaluate_gate(
    incumbent_scores: ItemScores,
    candidate_scores: ItemScores,
    margin: float = 0.0,
    no_regression: bool = False,
    min_coverage: float = 0.8,
    alpha: float = 0.1,
) -> GateDecision:
    """Decide on a candidate from paired per-item, per-sample scores.

    Accept only when the mean gain is above `margin` and the sign-flip test gives p <= alpha. A tie or a loss
    is a reject; a gain whose p-value is above alpha is undecided (more samples of the flipped items may help).
    """
    items = sorted(set(incumbent_scores) | set(candidate_scores))
    expected = 0
    paired = 0
    inc_means: list[float] = []
    cand_means: list[float] = []
    flips: dict[str, str] = {}
    for item in items:
        inc_samples = list(incumbent_scores.get(item, ()))
        cand_samples = list(candidate_scores.get(item, ()))
        expected += max(len(inc_samples), len(cand_samples))
        pairs = [(a, b) for a, b in zip(inc_samples, cand_samples) if a is not None and b is not None]
        if not pairs:
            continue
        paired += len(pairs)
        inc_mean = sum(a for a, _ in pairs) / len(pairs)
        cand_mean = sum(b for _, b in pairs) / len(pairs)
        inc_means.append(inc_mean)
        cand_means.append(cand_mean)
        flips[item] = _flip(inc_mean, cand_mean)
    counts = {name: sum(1 for f in flips.values() if f == name) for name in FLIPS}
    coverage = paired / expected if expected else 0.0
    if paired == 0 or coverage < min_coverage:
        return GateDecision("undecided", flips, f"only {coverage:.0%} of the validation samples were scored "
                            f"(need {min_coverage:.0%})", None, None, coverage, counts, None, paired, alpha)
    inc = sum(inc_means) / len(inc_means)
    cand = sum(cand_means) / len(cand_means)
    p_value = sign_flip_p_value([c - i for i, c in zip(inc_means, cand_means)])
    # Worth more samples: some item improved and the candidate is not clearly worse (the incumbent's passes on
    # the items it lost may have been lucky draws).
    may_settle = counts["improved"] > 0 and sign_flip_p_value([i - c for i, c in zip(inc_means, cand_means)]) > alpha
    tally = f"{counts['improved']} improved, {counts['regressed']} regressed, p={p_value:.3g}"

    def decided(action: str, reason: str, more: bool = False) -> GateDecision:
        return GateDecision(action, flips, reason, inc, cand, coverage, counts, p_value, paired, alpha, more)

    if no_regression and counts["regressed"]:
        return decided("reject", f"{counts['regressed']} item(s) regressed (no-regression rule)")
    if abs(cand - inc) <= 1e-12:
        return decided("reject", f"tie: no better than the current skill ({tally})", may_settle)
    if cand < inc:
        return decided("reject", f"worse: validation {inc:.3f} -> {cand:.3f} ({tally})", may_settle)
    if cand <= inc + margin + 1e-12:
        return decided("reject", f"gain {cand - inc:+.3f} is not above the margin {margin:.3f} ({tally})", may_settle)
    if p_value > alpha:
        return decided("undecided", f"gain {cand - inc:+.3f} is within the noise ({tally} > {alpha:g})", may_settle)
    return decided("accept", f"validation {inc:.3f} -> {cand:.3f} (+{cand - inc:.3f}, {tally} <= {alpha:g})")
