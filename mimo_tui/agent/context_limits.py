"""When a session's context is large enough to checkpoint or rebuild: thresholds by usable window, per model.

Defaults follow MiMo: usable window = context window - min(reserve, max output); under 25K usable no
thresholds; up to 200K at 20/40/60/80 %; 200K-500K every 10 %; over 500K every 5 %; none above
window - 13K. The `[context]` config table overrides them, per model with wildcards:

    [context]
    max_output = 4096
    [context.models."openai/gpt-5*"]
    context_window = 400000
    thresholds = ["30%", "60%", "250K"]
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_OUTPUT = 4096
DEFAULT_RESERVE = 20_000
HEADROOM = 13_000
MIN_USABLE = 25_000
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM%]?)\s*$")
_KEYS = {"context_window", "max_output", "reserve", "thresholds"}


class ContextConfigError(ValueError):
    """A `[context]` setting cannot be used; the message names the key and what is wrong."""


@dataclass(frozen=True)
class ContextLimits:
    """A model's window, what of it is usable, and the token counts at which the writer and rebuild act."""

    window: int
    usable: int
    thresholds: tuple[int, ...]

    @property
    def first(self) -> int | None:
        """The lowest threshold: the status line warns from here on."""
        return self.thresholds[0] if self.thresholds else None

    @property
    def top(self) -> int:
        """Above this the context is rebuilt (the usable window when there are no thresholds)."""
        return self.thresholds[-1] if self.thresholds else self.usable

    def crossed(self, before: int, after: int) -> int | None:
        """The highest threshold passed on the way from `before` to `after` tokens, if any."""
        passed = [t for t in self.thresholds if before < t <= after]
        return passed[-1] if passed else None

    def level(self, tokens: int) -> int:
        """How many thresholds `tokens` has reached."""
        return sum(1 for t in self.thresholds if tokens >= t)


def usable_window(window: int, max_output: int = DEFAULT_MAX_OUTPUT, reserve: int = DEFAULT_RESERVE) -> int:
    return max(0, window - min(reserve, max_output))


def default_percentages(usable: int) -> tuple[float, ...]:
    if usable < MIN_USABLE:
        return ()
    if usable <= 200_000:
        return (0.2, 0.4, 0.6, 0.8)
    step = 0.1 if usable <= 500_000 else 0.05
    count = round(1 / step)
    return tuple(round(step * k, 4) for k in range(1, count))


def parse_amount(value: Any, usable: int, where: str) -> int:
    """A threshold as tokens: 40000, "40%" (of the usable window), "100K", "1M"."""
    if isinstance(value, bool):
        raise ContextConfigError(f"{where}: expected a token count or a percentage, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    match = _AMOUNT.match(str(value))
    if not match:
        raise ContextConfigError(f"{where}: {value!r} is not a token count (40000, 100K, 1M) or a percentage (40%)")
    number, unit = float(match.group(1)), match.group(2).lower()
    if unit == "%":
        if not 0 < number <= 100:
            raise ContextConfigError(f"{where}: {value!r} must be a percentage between 0 and 100")
        return int(usable * number / 100)
    return int(number * {"": 1, "k": 1000, "m": 1_000_000}[unit])


def model_settings(context_table: Mapping[str, Any], model: str) -> dict[str, Any]:
    """`[context]` settings for `model`: the table's own keys, then matching `[context.models]` entries
    (wildcards; an exact name wins over a pattern, a longer pattern over a shorter one)."""
    settings = {key: value for key, value in context_table.items() if key in _KEYS}
    models = context_table.get("models") or {}
    if not isinstance(models, Mapping):
        raise ContextConfigError("context.models must be a table of model patterns")
    matching = [pattern for pattern in models if fnmatch.fnmatchcase(model, pattern)]
    for pattern in sorted(matching, key=lambda p: (p == model, len(p))):
        entry = models[pattern]
        if not isinstance(entry, Mapping):
            raise ContextConfigError(f"context.models.{pattern!r} must be a table")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise ContextConfigError(f"context.models.{pattern!r}: unknown setting(s) {', '.join(unknown)}; "
                                     f"allowed: {', '.join(sorted(_KEYS))}")
        settings.update(entry)
    return settings


def limits_for(model: str, default_window: int, context_table: Mapping[str, Any] | None = None) -> ContextLimits:
    """The limits of `model` under the `[context]` config (the window defaults to `[model] context_window`)."""
    settings = model_settings(context_table or {}, model)
    window = _positive(settings.get("context_window", default_window), "context_window")
    max_output = _positive(settings.get("max_output", DEFAULT_MAX_OUTPUT), "max_output")
    reserve = _positive(settings.get("reserve", DEFAULT_RESERVE), "reserve")
    usable = usable_window(window, max_output, reserve)
    raw = settings.get("thresholds")
    if raw is None:
        points = {int(usable * share) for share in default_percentages(usable)}
    else:
        if not isinstance(raw, list):
            raise ContextConfigError(f"context thresholds for {model}: expected a list such as [\"40%\", \"100K\"]")
        points = {parse_amount(item, usable, f"context thresholds for {model}") for item in raw}
    ceiling = window - HEADROOM
    return ContextLimits(window, usable, tuple(sorted(t for t in points if 0 < t <= ceiling and t <= usable)))


def _positive(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ContextConfigError(f"context {key} must be a positive whole number of tokens, got {value!r}")
    return value


__all__ = ["ContextConfigError", "ContextLimits", "limits_for", "parse_amount", "usable_window"]
