"""Context thresholds fire at REFERENCE's token counts for 32K, 128K, 400K and 1M windows, and config overrides them."""

from __future__ import annotations

import pytest

from mimo_tui.agent.context_limits import ContextConfigError, limits_for


def test_a_32k_window_checkpoints_at_20_40_60_percent_of_the_usable_window() -> None:
    limits = limits_for("openai/x", 32_000)
    assert limits.usable == 32_000 - 4096
    # 80 % (22,323) is above window - 13K (19,000): no threshold there.
    assert limits.thresholds == (5580, 11161, 16742)
    assert limits.first == 5580 and limits.top == 16742
    assert limits.crossed(5000, 6000) == 5580
    assert limits.crossed(6000, 17000) == 16742
    assert limits.crossed(6000, 7000) is None


def test_a_128k_window_has_four_thresholds() -> None:
    limits = limits_for("openai/x", 128_000)
    usable = 128_000 - 4096
    assert limits.thresholds == tuple(int(usable * p) for p in (0.2, 0.4, 0.6, 0.8))


def test_a_400k_window_checkpoints_every_10_percent() -> None:
    limits = limits_for("openai/x", 400_000, {"max_output": 32_000})
    usable = 400_000 - 20_000  # the reserve caps what is set aside for output
    assert limits.usable == usable
    assert limits.thresholds == tuple(int(usable * k / 10) for k in range(1, 10))


def test_a_1m_window_checkpoints_every_5_percent_and_never_above_window_minus_13k() -> None:
    limits = limits_for("openai/x", 1_000_000)
    usable = 1_000_000 - 4096
    assert len(limits.thresholds) == 19
    assert limits.thresholds[0] == int(usable * 0.05) and limits.thresholds[-1] == int(usable * 0.95)
    assert max(limits.thresholds) <= 1_000_000 - 13_000


def test_a_small_window_has_no_thresholds_and_rebuilds_at_the_usable_window() -> None:
    limits = limits_for("openai/x", 16_000)
    assert limits.thresholds == () and limits.top == 16_000 - 4096 and limits.first is None


def test_config_sets_thresholds_per_model_with_wildcards_percentages_and_token_counts() -> None:
    table = {
        "thresholds": ["50%"],
        "models": {
            "openai/*": {"context_window": 200_000, "thresholds": ["25%", "100K"]},
            "openai/big-*": {"context_window": 1_000_000, "max_output": 8000, "thresholds": ["0.5M", 600000]},
        },
    }
    mid = limits_for("openai/mini", 32_000, table)
    assert mid.window == 200_000 and mid.thresholds == (int((200_000 - 4096) * 0.25), 100_000)
    big = limits_for("openai/big-1", 32_000, table)  # the longer pattern wins
    assert big.window == 1_000_000 and big.usable == 992_000 and big.thresholds == (500_000, 600_000)
    other = limits_for("anthropic/c", 128_000, table)
    assert other.thresholds == (int((128_000 - 4096) * 0.5),)


@pytest.mark.parametrize("table, words", [
    ({"thresholds": ["lots"]}, "not a token count"),
    ({"thresholds": ["140%"]}, "between 0 and 100"),
    ({"models": {"x*": {"window": 5}}}, "unknown setting"),
    ({"models": {"x*": {"context_window": -5}}}, "positive whole number"),
])
def test_bad_context_settings_say_what_is_wrong(table: dict, words: str) -> None:
    with pytest.raises(ContextConfigError, match=words):
        limits_for("x1", 32_000, table)
