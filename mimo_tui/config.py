"""TOML config from the user and the project, merged (project wins), validated with clear errors.

A project's secrets (API keys) go in `.mimo/secrets.toml`, which is merged last and never committed.
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mimo_tui.secrets import masked
from mimo_tui.workspace import user_config_dir

# Known keys and their defaults. Tables listed in FREE_TABLES take any keys (model names, binding ids ...).
DEFAULTS: dict[str, Any] = {
    "model": {"default": "offline/agent", "context_window": 128000},
    "ui": {"theme": "mimo-dark", "watch_memory": True, "side": "tasks", "side_width": 40},
    "memory": {"global": True},
    "trainer": {"target": "offline/target", "optimizer": "offline/optimizer", "max_usd": 2.0},
    "agent": {"mode": "build", "bash_timeout_s": 120, "extra_skill_roots": False},
    "llm": {"max_concurrency": 8, "max_retries": 4, "timeout_s": 120.0},
    "goal": {"judge": "", "max_turns": 10, "max_cost_usd": 1.0},
    "dream": {"auto": False, "duplicate_threshold": 90.0, "unverified": "mark", "max_lines": 200, "max_bytes": 10240,
              "days": 7, "model": "", "every_days": 7},
    "distill": {"auto": False, "days": 30, "min_repeats": 2, "similarity": 80.0, "every_days": 30,
                "train_nightly": False},
    "compose": {"max_turns": 30},
    "keymap": {},
    "models": {},
    "permissions": {},
    "mcp": {},
    "context": {},
}
FREE_TABLES = {"keymap", "models", "permissions", "mcp", "context"}
CONFIG_ENV = "MIMO_CONFIG"
SECRETS_FILE = "secrets.toml"


@dataclass
class ConfigProblem:
    """A problem found in a config file, located by file, line and key."""

    path: Path
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}" + (f", line {self.line}" if self.line else "")
        what = f" key {self.key}:" if self.key else ""
        return f"config error in {where}:{what} {self.message}"


@dataclass
class Config:
    """The effective config, where each value came from, and the problems met on the way."""

    values: dict[str, Any]
    sources: dict[str, str]
    problems: list[ConfigProblem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.values
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def table(self, name: str) -> dict[str, Any]:
        value = self.values.get(name, {})
        return value if isinstance(value, dict) else {}


def user_config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else user_config_dir() / "config.toml"


def secrets_path(project_config: Path) -> Path:
    """The project's git-ignored secrets file, beside its config."""
    return project_config.with_name(SECRETS_FILE)


def load_config(project_config: Path | None) -> Config:
    """Defaults, then the user config, the project config and the project's secrets; bad files or values become problems."""
    config = Config(copy.deepcopy(DEFAULTS), {key: "default" for key in _flatten(DEFAULTS)})
    paths = [user_config_path()]
    if project_config is not None:
        paths += [project_config, secrets_path(project_config)]
    for path in paths:
        try:
            if not path.exists():
                continue
        except OSError as exc:  # e.g. a home folder this user may not enter
            config.problems.append(ConfigProblem(path, None, None, f"cannot be read ({exc.strerror or exc}); using defaults"))
            continue
        config.files.append(path)
        _merge_file(config, path)
    return config


def _merge_file(config: Config, path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        config.problems.append(ConfigProblem(path, None, None, f"cannot be read ({exc}); using defaults"))
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        config.problems.append(
            ConfigProblem(path, int(match.group(1)) if match else None, None, f"not valid TOML ({exc}); file ignored")
        )
        return
    for table in FREE_TABLES & data.keys():
        free = data.pop(table)
        if not isinstance(free, dict):
            config.problems.append(ConfigProblem(path, _line_of(text, table), table, "must be a table, ignored"))
            continue
        _deep_merge(config.values.setdefault(table, {}), free)
        for key in [*free, *_flatten(free)]:
            config.sources[f"{table}.{key}"] = str(path)
    for dotted, value in _flatten(data).items():
        expected = _default_of(dotted)
        if expected is _MISSING:
            config.problems.append(ConfigProblem(path, _line_of(text, dotted), dotted, "unknown key, ignored"))
            continue
        if not _same_type(expected, value):
            config.problems.append(
                ConfigProblem(
                    path, _line_of(text, dotted), dotted,
                    f"expected {type(expected).__name__}, got {type(value).__name__} {value!r}; using {expected!r}",
                )
            )
            continue
        _set(config.values, dotted, value)
        config.sources[dotted] = str(path)


_MISSING = object()


def _default_of(dotted: str) -> Any:
    node: Any = DEFAULTS
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _same_type(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(expected, bool) and isinstance(value, bool)
    if isinstance(expected, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(expected))


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and (value or prefix == "" and key in FREE_TABLES):
            nested = _flatten(value, dotted + ".")
            flat.update(nested)
        else:
            flat[dotted] = value
    return flat


def _deep_merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _set(values: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = values
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _line_of(text: str, dotted: str) -> int | None:
    """The line where `dotted` is set, looking under its table header when it has one."""
    *tables, key = dotted.split(".")
    table = ".".join(tables)
    current = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            current = header.group(1).replace('"', "")
            continue
        assign = re.match(r'^("?)([\w.\-"]+)\1\s*=', line)
        if not assign:
            continue
        name = assign.group(2).replace('"', "")
        full = f"{current}.{name}" if current else name
        if full == dotted or (current == table and name == key):
            return number
    return None


def describe(config: Config) -> str:
    """The effective config as `key = value  # source` lines, for `mimo config`; secret values are masked."""
    values = masked(config.values)
    fixed = {k: v for k, v in values.items() if k not in FREE_TABLES}
    entries = dict(_flatten(fixed))
    for table in FREE_TABLES:
        free = values.get(table, {})
        for key, value in (free if isinstance(free, dict) else {}).items():
            entries[f'{table}."{key}"' if "." in key else f"{table}.{key}"] = value
    lines = []
    for dotted, value in sorted(entries.items()):
        source = config.sources.get(dotted.replace('"', ""), "default")
        lines.append(f"{dotted} = {_toml_value(value)}  # {source}")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)
