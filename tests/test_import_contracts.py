"""The layer rules of DESIGN.md, written as import-linter contracts in pyproject.toml, hold (issue 15)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept() -> None:
    """Layers flow downward, no package cycles, Textual only in ui/, no sqlite/git/litellm/subprocess in ui/."""
    lint = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_the_project_is_plain_data_and_opens_no_memory_service() -> None:
    """`Project` is its workspace, memory repo and config; memory is a service the app (or a command) opens."""
    from mimo_tui.project import Project

    assert [field.name for field in dataclasses.fields(Project)] == ["workspace", "store", "config"]
    code = "import sys, mimo_tui.project; print(sorted(m for m in sys.modules if m.startswith('mimo_tui.memory.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "mimo_tui.memory.service" not in out.stdout and "mimo_tui.memory.roots" not in out.stdout


def test_memory_does_not_import_the_project_module() -> None:
    """The cycle project.py -> memory/service.py -> memory/roots.py -> project.py is gone, annotations included."""
    import grimp

    graph = grimp.build_graph("mimo_tui")
    assert not graph.chain_exists(importer="mimo_tui.memory", imported="mimo_tui.project", as_packages=True)
