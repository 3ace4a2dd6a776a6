"""A model litellm's price table cannot price is known from the bundled table alone, so no call waits for litellm's
import to learn that its cost is 0; every model litellm does price is still priced by litellm."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from mimo_tui.llm import ModelSpec, prices
from mimo_tui.llm.gateway import Gateway
from mimo_tui.llm.runtime import load_litellm

ROOT = Path(__file__).resolve().parent.parent


def litellm_price(litellm, model: str) -> float:
    try:
        prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=1000, completion_tokens=1000)
    except Exception:  # noqa: BLE001 - unmapped models raise: the gateway counts them as 0
        return 0.0
    return prompt + completion


def test_every_model_litellm_prices_may_be_priced() -> None:
    litellm = load_litellm()
    table = json.loads((Path(litellm.__file__).parent / prices.TABLE).read_text())
    rng = random.Random(7)
    names = ["openai/test", "openai/bench", "openai/judge", "openai/gpt-4o", "openai/ft:gpt-4o-mini:org::abc",
             "ft:gpt-4o-mini-2024-07-18:org::x"]
    for key in rng.sample(sorted(table), 300):
        bare = key.rsplit("/", 1)[-1]
        names += [key, f"openai/{bare}", f"openai/{bare}-2099-01-01", f"openai/{bare}-preview", f"openai/{bare[:-1]}"]
    missed = [name for name in names if litellm_price(litellm, name) > 0 and not prices.may_be_priced(name)]
    assert missed == []
    assert not prices.may_be_priced("openai/test") and not prices.may_be_priced("openai/bench")
    assert prices.may_be_priced("openai/gpt-4o-2099-01-01") and prices.may_be_priced("openai/GPT-4O")


PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from mimo_tui.llm import ModelSpec
from mimo_tui.llm.gateway import Gateway
from mimo_tui.skillopt.metered_calls import UNKNOWN_OUTPUT_LIMIT, max_output_tokens
cost = Gateway()._cost(ModelSpec("openai/test", api_base="http://127.0.0.1:9/v1"), 1000, 1000)
limit = max_output_tokens("openai/test") == UNKNOWN_OUTPUT_LIMIT
print("cost", cost, "unknown output limit", limit, "litellm imported:", "litellm" in sys.modules)
"""


def test_an_unpriced_model_costs_0_without_importing_litellm() -> None:
    """Its cost (the gateway) and its output limit (the trainer's dollar bound) are known without litellm."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert "cost 0.0 unknown output limit True litellm imported: False" in done.stdout, done.stdout + done.stderr[-2000:]


def test_a_priced_model_is_still_priced_by_litellm() -> None:
    from mimo_tui.skillopt.metered_calls import UNKNOWN_OUTPUT_LIMIT, max_output_tokens

    load_litellm()
    assert Gateway()._cost(ModelSpec("openai/gpt-4o"), 1000, 1000) > 0
    assert Gateway()._cost(ModelSpec("openai/test"), 1000, 1000) == 0.0
    assert max_output_tokens("openai/gpt-4o") < UNKNOWN_OUTPUT_LIMIT
