"""Keeps literal secrets out of the memory repo's history: a TOML file holding one is never committed."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

from mimo_tui.secrets import is_literal_secret, literal_secrets
from mimo_tui.store.git_runner import GitRunner
from mimo_tui.store.records import StoreError

log = logging.getLogger(__name__)

SECRETS_FILE = "secrets.toml"
# `name = "value"` anywhere on a line (also inside inline tables), for files that are not valid TOML.
_ASSIGNMENT = re.compile(r"""(?:^|[{,\s])["']?([A-Za-z0-9_.\-]+)["']?\s*=\s*(["'])(.*?)\2""")


class SecretRefused(StoreError):
    """A file with a literal secret was not committed; the message says where the secret belongs."""


def where_keys_go() -> str:
    from mimo_tui.config import user_config_path

    return (f'put the key in the environment and write `api_key = "env:NAME"`, or move it to the user config '
            f"{user_config_path()} or to .mimo/{SECRETS_FILE} (never committed)")


def _secret_keys(text: str) -> list[str]:
    try:
        return literal_secrets(tomllib.loads(text))
    except tomllib.TOMLDecodeError:
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            for match in _ASSIGNMENT.finditer(line):
                if is_literal_secret(match.group(1).split(".")[-1], match.group(3)):
                    found.append(f"{match.group(1)} (line {number})")
        return found


def secret_problem(relpath: str, data: bytes | None) -> str | None:
    """Why `relpath` with content `data` must not be committed, or None when it may be."""
    name = relpath.rsplit("/", 1)[-1]
    if name == SECRETS_FILE:
        return f"{relpath} holds secrets and is never committed"
    if not name.endswith(".toml") or data is None:
        return None
    keys = _secret_keys(data.decode("utf-8", errors="replace"))
    if not keys:
        return None
    listed = ", ".join(keys[:3]) + (" ..." if len(keys) > 3 else "")
    return f"{relpath} holds a literal secret ({listed}), which would stay in the memory repo's history; {where_keys_go()}"


def check_commit(relpath: str, data: bytes | None) -> None:
    """Raise SecretRefused when `data` may not be committed as `relpath`."""
    problem = secret_problem(relpath, data)
    if problem:
        raise SecretRefused(f"refused to commit {problem}")


def stage_all(git: GitRunner, root: Path, warn: Callable[[str], None] | None = None) -> dict[str, str]:
    """`git add -A`, then unstage every file that holds a literal secret (see `unstage_secrets`)."""
    git.run("add", "-A")
    return unstage_secrets(git, root, warn)


def unstage_secrets(git: GitRunner, root: Path, warn: Callable[[str], None] | None = None,
                    candidates: list[str] | None = None) -> dict[str, str]:
    """Unstage every staged file that holds a literal secret (it stays on disk, uncommitted).

    Returns the refused paths with their warnings, each also logged and handed to `warn`. `candidates` (paths that changed, when the
    caller already knows them) saves asking git which files are staged.
    """
    if candidates is None:
        staged = git.run("diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR", check=False).stdout
        candidates = [rel for rel in staged.split("\0") if rel]
    refused: dict[str, str] = {}
    for rel in candidates:
        if not rel.endswith(".toml"):
            continue
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        problem = secret_problem(rel, data)
        if problem is None:
            continue
        has_head = git.run("rev-parse", "--verify", "--quiet", "HEAD", check=False).returncode == 0
        if has_head:
            git.run("reset", "-q", "--", rel, check=False)
        else:
            git.run("rm", "-q", "--cached", "--ignore-unmatch", "--", rel, check=False)
        warning = f"not committed: {problem}"
        refused[rel] = warning
        log.warning(warning)
        if warn is not None:
            warn(warning)
    return refused
