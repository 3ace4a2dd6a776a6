"""The paired validation gate as a pure function: flips, the noise test, and its evidence."""

from __future__ import annotations

import math

from mimo_tui.skillopt.gate import evaluate_gate, sign_flip_p_value


def _binomial_tail(wins: int, n: int) -> float:
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def test_strict_gain_is_accepted_with_flips_and_evidence() -> None:
    inc = {str(i): [0.0] for i in range(6)} | {"s": [1.0], "f": [0.0]}
    cand = {str(i): [1.0] for i in range(6)} | {"s": [1.0], "f": [0.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "accept"
    assert decision.flips["0"] == "improved" and decision.flips["s"] == "stable" and decision.flips["f"] == "still_failing"
    assert decision.counts == {"improved": 6, "regressed": 0, "still_failing": 1, "stable": 1}
    assert decision.delta == 0.75
    assert decision.p_value == 1 / 64
    evidence = decision.evidence()
    assert evidence["improved"] == 6 and evidence["regressed"] == 0 and evidence["p_value"] == 0.0156
    assert evidence["paired_samples"] == 8 and evidence["alpha"] == 0.1
    assert "p=0.0156" in decision.reason


def test_six_improved_five_regressed_is_within_the_noise_not_an_accept() -> None:
    # What was seen: +0.025 on 40 items with 6 improved and 5 regressed was accepted.
    inc = {f"i{n}": [0.0] for n in range(6)} | {f"r{n}": [1.0] for n in range(5)} | {f"s{n}": [1.0] for n in range(29)}
    cand = {f"i{n}": [1.0] for n in range(6)} | {f"r{n}": [0.0] for n in range(5)} | {f"s{n}": [1.0] for n in range(29)}
    decision = evaluate_gate(inc, cand)
    assert abs(decision.delta - 0.025) < 1e-9
    assert decision.action != "accept"
    assert decision.action == "undecided" and decision.more_samples_help
    assert decision.p_value == _binomial_tail(6, 11) == 0.5
    assert "within the noise" in decision.reason


def test_one_improved_item_is_not_enough_evidence() -> None:
    inc = {"a": [0.0], "b": [1.0], "c": [0.0], "d": [1.0]}
    cand = {"a": [1.0], "b": [1.0], "c": [0.0], "d": [1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "undecided" and decision.p_value == 0.5


def test_sign_flip_p_value_is_the_exact_sign_test_for_pass_fail_items() -> None:
    for wins, losses in ((5, 0), (7, 1), (6, 5), (9, 3), (0, 4), (12, 2)):
        diffs = [1.0] * wins + [-1.0] * losses + [0.0] * 3
        assert abs(sign_flip_p_value(diffs) - _binomial_tail(wins, wins + losses)) < 1e-12
    assert sign_flip_p_value([]) == 1.0
    # partial flips (several samples) weigh less than full ones
    assert sign_flip_p_value([1.0, 1.0, 1.0, 1.0, -1 / 3]) < sign_flip_p_value([1.0, 1.0, 1.0, 1.0, -1.0])


def test_tie_is_rejected_even_when_items_flip_both_ways() -> None:
    inc = {"a": [1.0], "b": [0.0]}
    cand = {"a": [0.0], "b": [1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "reject"
    assert "tie" in decision.reason
    assert decision.counts["improved"] == 1 and decision.counts["regressed"] == 1


def test_margin_must_be_exceeded() -> None:
    inc = {str(i): [0.0] for i in range(100)}
    cand = dict(inc) | {str(i): [1.0] for i in range(8)}
    assert evaluate_gate(inc, cand, margin=0.1).action == "reject"
    assert evaluate_gate(inc, cand, margin=0.05).action == "accept"


def test_no_regression_rule_rejects_a_net_gain_that_breaks_an_item() -> None:
    inc = {"a": [1.0]} | {str(i): [0.0] for i in range(9)}
    cand = {"a": [0.0]} | {str(i): [1.0] for i in range(9)}
    assert evaluate_gate(inc, cand).action == "accept"
    decision = evaluate_gate(inc, cand, no_regression=True)
    assert decision.action == "reject"
    assert decision.flips["a"] == "regressed"
    assert "regressed" in decision.reason


def test_k_samples_are_paired_and_averaged_per_item() -> None:
    inc = {"a": [1.0, 0.0, 0.0], "b": [1.0, 1.0, 1.0]}
    cand = {"a": [1.0, 1.0, 0.0], "b": [1.0, 1.0, 1.0]}
    decision = evaluate_gate(inc, cand)
    assert decision.action == "undecided"
    assert decision.flips == {"a": "improved", "b": "stable"}
    assert abs(decision.incumbent - 4 / 6) < 1e-9 and abs(decision.candidate - 5 / 6) < 1e-9
    assert decision.samples == 6


def test_errored_samples_are_missing_data_not_zeros() -> None:
    # The candidate's error on sample 2 of "a" must not count as a failure: only sample 1 is paired.
    inc = {"a": [0.0, 1.0], "b": [0.0, 0.0], "c": [1.0, 1.0], "d": [1.0, 1.0], "e": [1.0, 1.0]}
    cand = {"a": [1.0, None], "b": [1.0, 0.0], "c": [1.0, 1.0], "d": [1.0, 1.0], "e": [1.0, 1.0]}
    decision = evaluate_gate(inc, cand, min_coverage=0.8, alpha=0.3)
    assert decision.coverage == 0.9
    assert decision.action == "accept"
    assert decision.flips["a"] == "improved"
    assert decision.p_value == 0.25


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
