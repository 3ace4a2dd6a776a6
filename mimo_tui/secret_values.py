"""Which config values are secrets, and how they are shown: masked, never printed or committed as written."""

from __future__ import annotations

import re
from typing import Any

# Words of a key's name that say it holds a credential (`api_key`, `GITHUB_TOKEN`, `client_secret`, `x-api-key`).
_SECRET_WORDS = {"token", "secret", "password", "passwd", "passphrase", "authorization", "credential", "credentials",
                 "apikey", "bearer"}
_SECRET_ENDINGS = ("token", "secret", "password", "apikey")
# Tables whose leaf keys are not credentials even when their names look like one (key bindings).
NOT_SECRET_TABLES = ("keymap",)
MASK = "********"


def is_secret_name(name: str) -> bool:
    """True for `api_key`, `GITHUB_TOKEN`, `client_secret`, `password`, `Authorization` and the like."""
    words = [word for word in re.split(r"[^a-z0-9]+", name.strip().lower()) if word]
    if not words:
        return False
    return words[-1] == "key" or any(word in _SECRET_WORDS or word.endswith(_SECRET_ENDINGS) for word in words)


def is_reference(value: str) -> bool:
    """A value that names where the secret is (`env:NAME`, `${NAME}`), rather than the secret itself."""
    stripped = value.strip()
    return stripped == "" or stripped.startswith("env:") or "${" in stripped


def is_literal_secret(name: str, value: Any) -> bool:
    """A string value under a secret-looking key that is the secret itself."""
    return isinstance(value, str) and is_secret_name(name) and not is_reference(value)


def literal_secrets(data: Any, prefix: str = "") -> list[str]:
    """Dotted keys of `data` (a parsed TOML/JSON document) that hold a literal secret."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not prefix and key in NOT_SECRET_TABLES:
                continue
            dotted = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, (dict, list)):
                found += literal_secrets(value, dotted)
            elif is_literal_secret(str(key), value):
                found.append(dotted)
    elif isinstance(data, list):
        for number, value in enumerate(data):
            found += literal_secrets(value, f"{prefix}[{number}]")
    return found


def mask_value(value: str) -> str:
    """What is shown instead of a literal secret: its length, none of its characters."""
    return f"{MASK} (hidden, {len(value)} characters)"


def masked(data: Any, name: str = "", top: bool = True) -> Any:
    """A copy of `data` with every literal secret replaced by a mask; references like `env:NAME` are kept."""
    if isinstance(data, dict):
        return {key: value if top and key in NOT_SECRET_TABLES else masked(value, str(key), False)
                for key, value in data.items()}
    if isinstance(data, list):
        return [masked(value, name, False) for value in data]
    if is_literal_secret(name, data):
        return mask_value(data)
    return data
