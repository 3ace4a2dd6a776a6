"""Offline token counting for memory blocks: `mimo_tui.llm.count_tokens` when present, else tiktoken directly."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path


def _bundled_tokenizer_dir() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


@lru_cache(maxsize=1)
def _counter() -> Callable[[str], int]:
    try:
        from mimo_tui.llm import count_tokens as llm_count  # type: ignore[attr-defined]
    except ImportError:
        llm_count = None
    if llm_count is not None:
        return lambda text: llm_count(text)
    encoding = _encoding()
    return lambda text: len(encoding.encode_ordinary(text))


def count_tokens(text: str) -> int:
    """Tokens of `text` (cl100k_base), counted offline."""
    return _counter()(text) if text else 0


@lru_cache(maxsize=1)
def _encoding():  # type: ignore[no-untyped-def]
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        folder = _bundled_tokenizer_dir()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def head_tokens(text: str, limit: int) -> tuple[str, int]:
    """The longest start of `text` of at most `limit` tokens (cut at a token boundary), and the tokens of all of `text`."""
    tokens = _encoding().encode_ordinary(text)
    if len(tokens) <= limit:
        return text, len(tokens)
    return (_encoding().decode(tokens[:limit]) if limit > 0 else ""), len(tokens)
