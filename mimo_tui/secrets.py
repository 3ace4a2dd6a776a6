"""Secret values in config-like text (TOML, .env, YAML, JSON): which keys hold them, and the text with them masked."""

from __future__ import annotations

import re
from typing import Any

MASK = "…(masked)"

_ASSIGNMENT = re.compile(
    r"""(?P<key>"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_.\-]+)(?P<sep>[ \t]*[=:][ \t]*)"""
    r"""(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,}\]#"']+)"""
)
_KEEP_PREFIX_FROM = 12  # show the first 3 characters (`sk-`) only of values long enough not to give much away

# Words of a key's name that say it holds a credential (`api_key`, `GITHUB_TOKEN`, `client_secret`, `x-api-key`).
_SECRET_WORDS = {"token", "secret", "password", "passwd", "passphrase", "authorization", "credential", "credentials",
                 "apikey", "bearer", "auth", "pwd"}
_SECRET_ENDINGS = ("token", "secret", "password", "apikey")
# Tables whose leaf keys are not credentials even when their names look like one (key bindings).
NOT_SECRET_TABLES = ("keymap",)
_VARIABLE = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")


def is_secret_key(name: str) -> bool:
    """True for `api_key`, `GITHUB_TOKEN`, `client_secret`, `password`, `Authorization` and the like
    (not `max_tokens`, nor `api_key_env`, which only names a variable)."""
    words = [word for word in re.split(r"[^a-z0-9]+", name.strip().strip("\"'").lower()) if word]
    if not words:
        return False
    return words[-1] == "key" or any(word in _SECRET_WORDS or word.endswith(_SECRET_ENDINGS) for word in words)


def is_reference(value: str) -> bool:
    """A value that names where the secret is (`env:NAME`, `${NAME}`, `$NAME`), rather than the secret itself."""
    stripped = value.strip()
    return stripped == "" or stripped.startswith("env:") or "${" in stripped or bool(_VARIABLE.fullmatch(stripped))


def is_literal_secret(name: str, value: Any) -> bool:
    """A string value under a secret-looking key that is the secret itself."""
    return isinstance(value, str) and is_secret_key(name) and not is_reference(value)


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


def masked(data: Any, name: str = "", top: bool = True) -> Any:
    """A copy of `data` (parsed config) with every literal secret masked; references like `env:NAME` are kept."""
    if isinstance(data, dict):
        return {key: value if top and key in NOT_SECRET_TABLES else masked(value, str(key), False)
                for key, value in data.items()}
    if isinstance(data, list):
        return [masked(value, name, False) for value in data]
    if is_literal_secret(name, data):
        return _masked(data)
    return data


def _masked(value: str) -> str:
    prefix = value[:3] if len(value) >= _KEEP_PREFIX_FROM else ""
    return prefix + MASK


def mask_secrets(text: str, every_value: bool = False) -> str:
    """`text` with the value of every secret-named key masked (`api_key = "sk-…(masked)"`), elsewhere unchanged.

    `every_value` masks every assigned value whatever its key (a secrets file). A masked value that also
    occurs elsewhere in the text (repeated, or in a URL) is masked there too.
    """
    found: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if not every_value and not is_secret_key(match.group("key")):
            return match.group(0)
        raw = match.group("value")
        quote = raw[0] if raw[:1] in ("'", '"') and len(raw) >= 2 and raw[-1] == raw[0] else ""
        value = raw[1:-1] if quote else raw
        if is_reference(value):
            return match.group(0)
        found.append(value)
        return f"{match.group('key')}{match.group('sep')}{quote}{_masked(value)}{quote}"

    masked = _ASSIGNMENT.sub(replace, text)
    for value in sorted(set(found), key=len, reverse=True):
        if len(value) >= 6:
            masked = masked.replace(value, _masked(value))
    return masked


def holds_masked_value(text: str) -> bool:
    """Whether `text` carries a value masked by `mask_secrets` (writing it back would destroy the secret)."""
    return MASK in text
