"""Offline token counting with tiktoken, using the encodings bundled in litellm's wheel."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


def bundled_tokenizer_dir() -> Path | None:
    """Return litellm's folder of tiktoken files, found without importing litellm."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def point_tiktoken_at_bundled_files() -> None:
    """Set TIKTOKEN_CACHE_DIR to litellm's bundled encodings unless the user already chose one."""
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        return
    folder = bundled_tokenizer_dir()
    if folder is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


def encoding_name_for(model: str | None) -> str:
    """Pick the tiktoken encoding that best approximates a model's tokenizer."""
    if model:
        bare = model.rsplit("/", 1)[-1].lower()
        if bare.startswith(_O200K_PREFIXES):
            return "o200k_base"
    return "cl100k_base"


@lru_cache(maxsize=4)
def _encoding(name: str) -> tiktoken.Encoding:
    point_tiktoken_at_bundled_files()
    import tiktoken

    return tiktoken.get_encoding(name)


def encoding(name: str = "cl100k_base") -> tiktoken.Encoding:
    """A tiktoken encoding by name, loaded offline and cached."""
    return _encoding(name)


def count_tokens(text: str, model: str | None = None) -> int:
    """Count the tokens of text for model (cl100k_base unless the model uses o200k_base)."""
    if not text:
        return 0
    return len(_encoding(encoding_name_for(model)).encode_ordinary(text))


def count_message_tokens(messages: list[dict], model: str | None = None) -> int:
    """Estimate the prompt tokens of chat messages, including a small per-message overhead."""
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            total += count_tokens(content, model)
        elif isinstance(content, list):
            total += sum(count_tokens(str(part.get("text", "")), model) for part in content if isinstance(part, dict))
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            total += count_tokens(str(function.get("name", "")), model) + count_tokens(str(function.get("arguments", "")), model)
        total += 4
    return total
