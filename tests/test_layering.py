"""The layering of DESIGN.md holds: Textual only in ui/, litellm only inside llm/ functions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mimo_tui"


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_nothing_outside_ui_imports_textual() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in python_files()
        if "ui" not in path.relative_to(PACKAGE).parts[:1]
        and re.search(r"^\s*(from|import)\s+textual\b", path.read_text(), re.M)
    ]
    assert offenders == []


def test_ui_does_not_reach_storage_or_models_directly() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "ui").rglob("*.py")
        if re.search(r"^\s*(import sqlite3|import git\b|from git |import litellm|from litellm|import subprocess)", path.read_text(), re.M)
    ]
    assert offenders == []


def test_litellm_is_never_imported_at_module_level() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in python_files()
        if re.search(r"^(import litellm|from litellm)", path.read_text(), re.M)
    ]
    assert offenders == []


def test_the_app_module_loads_without_litellm() -> None:
    code = "import sys, mimo_tui.cli, mimo_tui.ui.app; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_ui_imports_no_store_and_no_run_folder_internals() -> None:
    """Panes call services (MemoryService, the run-folder reader); they never open the store or parse run folders."""
    ui = PACKAGE / "ui"
    imports = re.compile(r"^\s*(from|import)\s+mimo_tui\.(store\b|skillopt\.run_folder\b|skillopt\s+import)", re.M)
    offenders = [str(path.relative_to(PACKAGE)) for path in ui.rglob("*.py") if imports.search(path.read_text())]
    trainer = [ui / "trainer_pane.py", *sorted((ui / "trainer").rglob("*.py"))]
    parsing = re.compile(r"json\.loads|\.read_text\(|\bopen\(|\.iterdir\(|\bdifflib\b")
    offenders += [str(path.relative_to(PACKAGE)) for path in trainer if parsing.search(path.read_text())]
    assert offenders == []
