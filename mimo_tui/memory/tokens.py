"""Token counting for memory blocks, on the gateway's offline tiktoken encodings (cl100k_base)."""

from __future__ import annotations

from mimo_tui.llm.tokens import encoding as _named_encoding


def count_tokens(text: str) -> int:
    """Tokens of `text` (cl100k_base), counted offline."""
    return len(_named_encoding("cl100k_base").encode_ordinary(text)) if text else 0


def head_tokens(text: str, limit: int) -> tuple[str, int]:
    """The longest start of `text` of at most `limit` tokens (cut at a token boundary), and the tokens of all of `text`."""
    encoding = _named_encoding("cl100k_base")
    tokens = encoding.encode_ordinary(text)
    if len(tokens) <= limit:
        return text, len(tokens)
    return (encoding.decode(tokens[:limit]) if limit > 0 else ""), len(tokens)
