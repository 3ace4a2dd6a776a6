"""The paired validation gate as a pure function."""

from __future__ import annotations

from mimo_tui.skillopt.gate import evaluate_gate


def test_strict_gain_is_accepted_with_flips() -> None:
    inc = {"a": [0.0], "b": [1.0], "c": [0.0], "d": [1.0]}
    cand = {"a": [1.0], "b": [1.0], "c": [0.0], "d": [1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "accept"
    assert decision.flips == {"a": "improved", "b": "stable", "c": "still_failing", "d": "stable"}
    assert decision.counts == {"improved": 1, "regressed": 0, "still_failing": 1, "stable": 2}
    assert decision.delta == 0.25


def test_tie_is_rejected_even_when_items_flip_both_ways() -> None:
    inc = {"a": [1.0], "b": [0.0]}
    cand = {"a": [0.0], "b": [1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "reject"
    assert "tie" in decision.reason
    assert decision.counts["improved"] == 1 and decision.counts["regressed"] == 1


def test_margin_must_be_exceeded() -> None:
    inc = {str(i): [0.0] for i in range(10)}
    cand = dict(inc) | {"0": [1.0]}
    assert evaluate_gate(inc, cand, margin=0.1).action == "reject"
    assert evaluate_gate(inc, cand, margin=0.05).action == "accept"


def test_no_regression_rule_rejects_a_net_gain_that_breaks_an_item() -> None:
    inc = {"a": [1.0], "b": [0.0], "c": [0.0]}
    cand = {"a": [0.0], "b": [1.0], "c": [1.0]}
    assert evaluate_gate(inc, cand).action == "accept"
    decision = evaluate_gate(inc, cand, no_regression=True)
    assert decision.action == "reject"
    assert decision.flips["a"] == "regressed"
    assert "regressed" in decision.reason


def test_k_samples_are_paired_and_averaged_per_item() -> None:
    inc = {"a": [1.0, 0.0, 0.0], "b": [1.0, 1.0, 1.0]}
    cand = {"a": [1.0, 1.0, 0.0], "b": [1.0, 1.0, 1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "accept"
    assert decision.flips == {"a": "improved", "b": "stable"}
    assert abs(decision.incumbent - 4 / 6) < 1e-9 and abs(decision.candidate - 5 / 6) < 1e-9


def test_errored_samples_are_missing_data_not_zeros() -> None:
    # The candidate's error on sample 2 of "a" must not count as a failure: only sample 1 is paired.
    inc = {"a": [0.0, 1.0], "b": [0.0, 0.0], "c": [1.0, 1.0], "d": [1.0, 1.0], "e": [1.0, 1.0]}
    cand = {"a": [1.0, None], "b": [1.0, 0.0], "c": [1.0, 1.0], "d": [1.0, 1.0], "e": [1.0, 1.0]}
    decision = evaluate_gate(inc, cand, min_coverage=0.8)
    assert decision.coverage == 0.9
    assert decision.action == "accept"
    assert decision.flips["a"] == "improved"


def test_too_little_coverage_is_undecided() -> None:
    inc = {"a": [1.0], "b": [0.0], "c": [0.0], "d": [0.0]}
    cand = {"a": [None], "b": [1.0], "c": [None], "d": [None]}
    decision = evaluate_gate(inc, cand, min_coverage=0.5)
    assert decision.action == "undecided"
    assert decision.coverage == 0.25
    assert "25%" in decision.reason


def test_nothing_scored_is_undecided() -> None:
    assert evaluate_gate({}, {}).action == "undecided"
    assert evaluate_gate({"a": [None]}, {"a": [None]}).action == "undecided"
