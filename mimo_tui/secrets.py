"""Secret values in config-like text (TOML, .env, YAML, JSON): which keys hold them, and the text with them masked."""

from __future__ import annotations

import re

MASK = "…(masked)"

# A key holds a secret when its last word is one of these (so `api_key`, `GITHUB_TOKEN`, `db.password`,
# `AWS_SECRET_ACCESS_KEY`, but not `max_tokens` or `api_key_env`, which only names a variable).
_SECRET_KEY = re.compile(
    r"(?:^|[_.\-])(?:api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|secret[_\-]?key|token|secret|"
    r"password|passwd|pwd|passphrase|credentials?|auth)$",
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(
    r"""(?P<key>"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_.\-]+)(?P<sep>[ \t]*[=:][ \t]*)"""
    r"""(?P<value>"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,}\]#"']+)"""
)
# Values that only name where the secret lives are worth showing: `env:OPENAI_API_KEY`, `${TOKEN}`.
_REFERENCE = re.compile(r"^(?:env:[A-Za-z_][A-Za-z0-9_]*|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)$")
_KEEP_PREFIX_FROM = 12  # show the first 3 characters (`sk-`) only of values long enough not to give much away


def is_secret_key(name: str) -> bool:
    """Whether a config key's name says its value is a secret (api_key, token, password ...)."""
    return bool(_SECRET_KEY.search(name.strip().strip("\"'")))


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
        if not value or _REFERENCE.match(value):
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
