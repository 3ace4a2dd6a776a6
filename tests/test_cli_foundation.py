"""`mimo` from the shell: version, help, memory log/show/diff/revert, config and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mimo_tui import __version__


def mimo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mimo_tui", *args], cwd=cwd, capture_output=True, text=True, env=os.environ.copy())


def test_version_and_help(tmp_path: Path) -> None:
    assert mimo(tmp_path, "--version").stdout.strip() == f"mimo {__version__}"
    help_text = mimo(tmp_path, "--help").stdout
    assert "memory" in help_text and "config" in help_text


def test_memory_log_show_diff_revert(git_project: Path) -> None:
    assert mimo(git_project, "memory", "log").returncode == 0
    with (git_project / ".mimo" / "MEMORY.md").open("a") as handle:
        handle.write("- external fact: the deploy port is 8421\n")
    subprocess.run(["git", "-C", str(git_project / ".mimo"), "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qam", "outside"], check=True)
    log = mimo(git_project, "memory", "log", "MEMORY.md").stdout.splitlines()
    assert len(log) == 2 and "outside" in log[0]
    sha = log[0].split()[0]
    assert "8421" in mimo(git_project, "memory", "show", sha).stdout
    assert "+- external fact" in mimo(git_project, "memory", "diff", sha, "MEMORY.md").stdout
    reverted = mimo(git_project, "memory", "revert", sha)
    assert reverted.returncode == 0 and "revert" in reverted.stdout
    assert "8421" not in (git_project / ".mimo" / "MEMORY.md").read_text()
    assert len(mimo(git_project, "memory", "log").stdout.splitlines()) == 3


def test_unknown_revision_is_a_message_not_a_traceback(git_project: Path) -> None:
    out = mimo(git_project, "memory", "show", "nosuchcommit")
    assert out.returncode == 2 and "no commit 'nosuchcommit'" in out.stderr and "Traceback" not in out.stderr


def test_config_prints_sources_and_names_a_broken_file(git_project: Path) -> None:
    ok = mimo(git_project, "config")
    assert ok.returncode == 0 and 'model.default = "offline/agent"  # default' in ok.stdout
    (git_project / ".mimo").mkdir(exist_ok=True)
    (git_project / ".mimo" / "config.toml").write_text("this is [[[ not toml\n")
    bad = mimo(git_project, "config")
    assert bad.returncode == 1 and "config.toml, line 1" in bad.stderr and "Traceback" not in bad.stderr + bad.stdout


def test_damaged_memory_repo_points_at_repair(git_project: Path) -> None:
    mimo(git_project, "memory", "log")
    (git_project / ".mimo" / ".git" / "HEAD").write_text("nonsense\n")
    out = mimo(git_project, "memory", "log")
    assert out.returncode == 2 and "mimo memory repair" in out.stderr and "Traceback" not in out.stderr
    fixed = mimo(git_project, "memory", "repair")
    assert fixed.returncode == 0 and "fresh" in fixed.stdout
    assert mimo(git_project, "memory", "log").returncode == 0
