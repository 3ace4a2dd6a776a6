"""Loads litellm once, with offline-safe settings, and installs the offline provider."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from types import ModuleType

from mimo_tui.collector import freeze_long_lived_objects

from .tokens import point_tiktoken_at_bundled_files

_OFFLINE_SAFE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_MODE": "PRODUCTION",
    "HF_HUB_OFFLINE": "1",
}

_lock = threading.Lock()
_litellm: ModuleType | None = None


def is_loaded() -> bool:
    """Whether litellm has been imported and configured by load_litellm."""
    return _litellm is not None


def load_litellm() -> ModuleType:
    """Import and configure litellm (slow the first time; thread-safe; later calls are free)."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _lock:
        if _litellm is not None:
            return _litellm
        for name, value in _OFFLINE_SAFE_ENV.items():
            os.environ.setdefault(name, value)
        point_tiktoken_at_bundled_files()
        import litellm

        litellm.suppress_debug_info = True
        _silence_library_warnings()
        litellm.telemetry = False
        litellm.drop_params = True
        _install_offline_provider(litellm)
        # litellm's modules live as long as the process: keep the collector from re-walking them.
        freeze_long_lived_objects()
        _litellm = litellm
        return litellm


def _silence_library_warnings() -> None:
    # litellm trips pydantic deprecation warnings on every call; on stderr they would corrupt a TUI.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"litellm(\.|$)")
    warnings.filterwarnings("ignore", message=r".*is using the `ReadOnly` qualifier", category=UserWarning)


def _install_offline_provider(litellm: ModuleType) -> None:
    from .offline import PROVIDER, build_provider

    entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
    entries.append({"provider": PROVIDER, "custom_handler": build_provider()})
    litellm.custom_provider_map = entries
    if "litellm.utils" in sys.modules:
        from litellm.utils import custom_llm_setup

        custom_llm_setup()
