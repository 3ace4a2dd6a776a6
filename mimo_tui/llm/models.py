"""Model specs: which model to call, where, with which key, and whether it is offline."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .types import ModelError

OFFLINE_PREFIX = "offline/"
_SPEC_KEYS = {"model", "api_base", "api_key"}


@dataclass(frozen=True)
class ModelSpec:
    """A litellm model string plus its endpoint settings."""

    name: str
    api_base: str | None = None
    api_key: str | None = None
    offline: bool = False

    @property
    def label(self) -> str:
        """A display name; offline models always say so."""
        return f"{self.name} (offline)" if self.offline else self.name


def _read_api_key(value: Any, model: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ModelError(f"models.{model}.api_key must be a string, got {type(value).__name__}")
    if value.startswith("env:"):
        variable = value[4:].strip()
        if not variable:
            raise ModelError(f"models.{model}.api_key is 'env:' without a variable name")
        key = os.environ.get(variable)
        if not key:
            raise ModelError(f"models.{model}.api_key reads environment variable {variable}, which is not set")
        return key
    return value


def resolve_model(name: str, config_models: Mapping[str, Any] | None = None) -> ModelSpec:
    """Build the spec for name from the config's [models] table (an entry may alias another model string)."""
    if not isinstance(name, str) or not name.strip():
        raise ModelError(f"model name must be a non-empty string, got {name!r}")
    name = name.strip()
    entry = (config_models or {}).get(name, {})
    if entry is None:
        entry = {}
    if not isinstance(entry, Mapping):
        raise ModelError(f"models.{name} must be a table of settings, got {type(entry).__name__}")
    unknown = sorted(set(entry) - _SPEC_KEYS)
    if unknown:
        raise ModelError(f"models.{name} has unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_SPEC_KEYS))}")
    target = entry.get("model", name)
    if not isinstance(target, str) or not target.strip():
        raise ModelError(f"models.{name}.model must be a non-empty model string")
    target = target.strip()
    api_base = entry.get("api_base")
    if api_base is not None and not isinstance(api_base, str):
        raise ModelError(f"models.{name}.api_base must be a string URL")
    return ModelSpec(
        name=target,
        api_base=api_base or None,
        api_key=_read_api_key(entry.get("api_key"), name),
        offline=target.startswith(OFFLINE_PREFIX),
    )


# Hosted providers whose calls need a key; the variable is the one litellm reads. Local servers (an api_base) and
# providers not listed here are left to the call itself.
_KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
}
_BARE_PREFIXES = {"gpt-": "openai", "o1": "openai", "o3": "openai", "o4": "openai", "claude-": "anthropic"}


def missing_credentials(spec: ModelSpec, config_name: str | None = None) -> str | None:
    """Why a call to `spec` cannot be authenticated (what is missing, where to set it), or None when it can.

    Checked before any call so the user hears it at once, not as a provider error seconds later.
    """
    if spec.offline or spec.api_key or spec.api_base:
        return None
    provider, slash, _ = spec.name.partition("/")
    if not slash:
        provider = next((p for prefix, p in _BARE_PREFIXES.items() if spec.name.startswith(prefix)), "")
    variable = _KEY_VARIABLES.get(provider)
    if variable is None or os.environ.get(variable):
        return None
    name = config_name or spec.name
    return (f"model {name!r} has no credentials: set {variable} in the environment, or api_key "
            f"(or api_base for a local server) under [models.\"{name}\"] in .mimo/config.toml")
