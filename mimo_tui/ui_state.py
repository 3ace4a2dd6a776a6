"""Small UI choices remembered between runs (theme), kept in the user data dir."""

from __future__ import annotations

import json
from typing import Any

from mimo_tui.atomic_file import atomic_write
from mimo_tui.workspace import user_data_dir


def state_path():
    return user_data_dir() / "ui-state.json"


def load_ui_state() -> dict[str, Any]:
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_ui_state(**changes: Any) -> None:
    state = {**load_ui_state(), **changes}
    try:
        atomic_write(state_path(), json.dumps(state, indent=2).encode())
    except OSError:
        pass  # remembering a choice is a courtesy; failing it must not disturb the user
