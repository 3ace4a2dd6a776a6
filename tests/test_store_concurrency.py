"""Memory writes from several processes at once: none lost, none misreported, no index.lock failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mimo_tui.project import Project
from mimo_tui.store import WriteFailed
from tests.fixtures.mimo_process import mimo_env, start_mimo


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo / '.git'}", f"--work-tree={repo}", *args],
                          capture_output=True, text=True, check=True).stdout


def python_child(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=mimo_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_six_parallel_remembers_with_a_slow_hook_all_say_ok_and_all_are_committed(git_project: Path) -> None:
    mimo = Project.open(git_project).store.root
    hook = mimo / ".git" / "hooks" / "prepare-commit-msg"
    hook.write_text("#!/bin/sh\nsleep 0.5\n")
    hook.chmod(0o755)
    runs = [start_mimo(git_project, "run", "--json", f"remember zq-fact-{i} holds") for i in range(1, 7)]
    results = [(proc.wait(timeout=180), proc.communicate()) for proc in runs]
    hook.unlink()
    memory = (mimo / "MEMORY.md").read_text()
    committed = git(mimo, "show", "HEAD:MEMORY.md")
    for i, (code, (out, err)) in enumerate(results, 1):
        assert code == 0, err
        record = json.loads(out.strip().splitlines()[-1])
        calls = [c for c in record["tool_calls"] if c["tool"] == "memory"]
        assert calls and all(c["status"] == "ok" for c in calls), calls
        assert memory.count(f"zq-fact-{i} holds") == 1 and committed.count(f"zq-fact-{i} holds") == 1
    assert git(mimo, "status", "--porcelain", "--untracked-files=no") == ""


APPENDER = """
    import sys
    from pathlib import Path
    from mimo_tui.memory.surface import MemorySurface
    from mimo_tui.project import Project
    from mimo_tui.store import Writer
    surface = MemorySurface(Project.open(Path(sys.argv[1])))
    for i in range(int(sys.argv[3])):
        surface.append("Discovered durable knowledge", f"- {sys.argv[2]}-{i} fact", Writer("agent"))
    print("done")
"""


def test_two_processes_appending_100_times_each_keep_every_acknowledged_write(git_project: Path) -> None:
    mimo = Project.open(git_project).store.root
    commits_before = int(git(mimo, "rev-list", "--count", "HEAD"))
    children = [python_child(APPENDER, str(git_project), name, "100") for name in ("zq-a", "zq-b")]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0 and out.strip() == "done", err[-2000:]
    memory = (mimo / "MEMORY.md").read_text()
    committed = git(mimo, "show", "HEAD:MEMORY.md")
    for name in ("zq-a", "zq-b"):
        for i in range(100):
            assert memory.count(f"- {name}-{i} fact\n") == 1 and committed.count(f"- {name}-{i} fact\n") == 1
    assert int(git(mimo, "rev-list", "--count", "HEAD")) == commits_before + 200
    assert git(mimo, "status", "--porcelain") == ""


HOLDER = """
    import sys, time
    from pathlib import Path
    from mimo_tui.store import VersionedStore
    with VersionedStore(Path(sys.argv[1])).exclusive():
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
"""


@pytest.mark.parametrize("operation", ["external edit", "revert", "write"])
def test_every_commit_waits_for_another_process_holding_the_write_lock(git_project: Path, operation: str) -> None:
    store = Project.open(git_project).store
    first = store.write("MEMORY.md", "# Project memory\n\n- a fact to revert\n")
    holder = python_child(HOLDER, str(store.root), "1.5")
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    if operation == "external edit":
        (store.root / "notes.txt").write_text("edited by hand\n")
        assert [e.relpath for e in store.commit_external()] == ["notes.txt"]
    elif operation == "revert":
        store.revert(first.sha)
    else:
        store.write("MEMORY.md", "# Project memory\n\n- written while another process held the lock\n")
    waited = time.monotonic() - started
    holder.communicate(timeout=30)
    assert waited >= 1.0, f"committed after {waited:.2f} s, while another process held the lock"
    assert git(store.root, "status", "--porcelain") == ""


def outside_git_commit(repo: Path, hold_s: float) -> subprocess.Popen[str]:
    """A `git commit` run by hand in the memory repo, its editor open for `hold_s` seconds (it holds index.lock)."""
    env = {**mimo_env(), "GIT_EDITOR": f"sleep {hold_s}; true"}
    # A session of its own, so killing it also ends the editor (whose `sleep` would keep the pipes open).
    proc = subprocess.Popen(["git", "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-a", "--allow-empty"],
                            cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 10
    while not (repo / ".git" / "index.lock").exists():
        assert time.monotonic() < deadline, "the outside git never took index.lock"
        time.sleep(0.01)
    return proc


def test_a_write_waits_for_a_live_outside_git_holding_index_lock(git_project: Path) -> None:
    store = Project.open(git_project).store
    outside = outside_git_commit(store.root, 1.5)
    started = time.monotonic()
    info = store.write("MEMORY.md", "# Project memory\n\n- after the outside commit\n")
    assert info is not None and time.monotonic() - started >= 0.5
    outside.communicate(timeout=30)
    assert git(store.root, "show", "HEAD:MEMORY.md").endswith("- after the outside commit\n")


def test_a_live_index_lock_outlasting_the_wait_fails_cleanly_and_is_left_alone(git_project: Path) -> None:
    store = Project.open(git_project).store
    store.index_lock_wait_s = 0.5
    before = (store.root / "MEMORY.md").read_bytes()
    outside = outside_git_commit(store.root, 5)
    try:
        with pytest.raises(WriteFailed) as caught:
            store.write("MEMORY.md", "# Project memory\n\n- blocked\n")
        assert (store.root / ".git" / "index.lock").exists(), "a live process's index.lock was removed"
    finally:
        os.killpg(outside.pid, signal.SIGKILL)
        outside.communicate()
    message = str(caught.value)
    assert "git" in message and "pid" in message and "nothing was written" in message
    assert "remove" not in message.lower() and "manually" not in message.lower()
    assert (store.root / "MEMORY.md").read_bytes() == before


def test_an_index_lock_whose_owner_is_gone_is_cleared_by_the_next_write(git_project: Path) -> None:
    store = Project.open(git_project).store
    (store.root / ".git" / "index.lock").write_text("")  # a git that was killed mid-commit
    info = store.write("MEMORY.md", "# Project memory\n\n- after a crash\n")
    assert info is not None and not (store.root / ".git" / "index.lock").exists()
    assert any("index.lock" in note for note in store.recovery_notes)
    assert git(store.root, "status", "--porcelain") == ""
