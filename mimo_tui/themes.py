"""Themes shipped in `themes/` and the user's themes dir, read as plain dicts (the UI turns them into Textual themes)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from mimo_tui.workspace import user_config_dir

SHIPPED_THEMES = Path(__file__).resolve().parent.parent / "themes"
THEME_KEYS = {"primary", "secondary", "accent", "foreground", "background", "surface", "panel", "success", "warning", "error", "dark"}


def load_themes() -> tuple[list[dict[str, Any]], list[str]]:
    """All themes found, and a message for each file that could not be read."""
    themes: list[dict[str, Any]] = []
    problems: list[str] = []
    for folder in (SHIPPED_THEMES, user_config_dir() / "themes"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                problems.append(f"theme {path}: {exc}")
                continue
            if not isinstance(data.get("name"), str) or not isinstance(data.get("primary"), str):
                problems.append(f"theme {path}: needs string keys name and primary")
                continue
            themes.append({"name": data["name"], **{k: v for k, v in data.items() if k in THEME_KEYS}})
    return themes, problems
