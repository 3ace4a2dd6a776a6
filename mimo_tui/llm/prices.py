"""Whether litellm's price table can hold a price for a model, read from its bundled file without importing litellm.

A model the table cannot match (a local server's `openai/<name>`) costs 0 whichever way it is asked: litellm
raises for it and the gateway counts 0. Knowing that from the file lets a call end without waiting seconds for
litellm's import (the model worker's lean path streams while litellm still loads). litellm matches loosely (a
dated or suffixed name takes its base model's price), so a name is "unpriced" only when no entry of the table
begins with its last part nor is begun by it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from functools import lru_cache
from pathlib import Path

TABLE = "model_prices_and_context_window_backup.json"


@lru_cache(maxsize=1)
def _priced_names() -> tuple[str, ...] | None:
    """The last path part of every model in litellm's bundled price table, lowercased (None: no table found)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        table = json.loads((Path(next(iter(spec.submodule_search_locations))) / TABLE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return tuple(sorted({str(key).lower().rsplit("/", 1)[-1] for key in table}))


def may_be_priced(model: str) -> bool:
    """False only when litellm's own table cannot price `model`; True when it may (or when unsure)."""
    if os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP", "True") != "True":
        return True  # litellm may fetch a newer table than the bundled one
    names = _priced_names()
    if names is None:
        return True
    bare = model.lower().rsplit("/", 1)[-1]
    if ":" in bare:  # fine-tuned models ("ft:base:org::id") take their base model's price
        return True
    return any(bare.startswith(name) or name.startswith(bare) for name in names)
