"""Every CLI command ends with a message, never a traceback, and loses nothing when the disk, a permission or a
database says no (issue 19, item 9): a read-only `.mimo/`, corrupt `state.db` and `index.db`, a full disk, a closed pipe.

The commands are enumerated from the argparse parser, so a new command is covered without touching this file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mimo_tui.cli import build_parser
from tests.fixtures.mimo_process import NOBODY, read_only_for_a_user

# Values for positional arguments, by their dest; a command with another required positional gets "x".
PLACEHOLDERS = {"rev": "HEAD", "query": "zq", "skill": "date-normalizer", "prompt": "remember zq-matrix fact"}
# Options that keep a command short when it succeeds (a training run is capped at two provider calls).
EXTRA = {("skill", "train"): ["--max-calls", "2"]}
SKIPPED_DIRS = {".git", "cache", "runs"}


def leaf_commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    """argv of every leaf command of `parser`, with placeholder values for its required positionals."""
    subs = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not subs:
        argv = list(prefix) + EXTRA.get(prefix, [])
        for action in parser._actions:
            if not action.option_strings and action.nargs not in ("?", "*"):
                argv.append(PLACEHOLDERS.get(action.dest, "x"))
        return [argv]
    found: list[list[str]] = []
    for action in subs:
        for name, sub in action.choices.items():
            found += leaf_commands(sub, (*prefix, name))
    return found


COMMANDS = leaf_commands(build_parser())


def test_every_command_is_enumerated() -> None:
    names = {" ".join(argv[:2]) for argv in COMMANDS}
    assert {"memory log", "memory search", "memory reindex", "history search", "run remember zq-matrix fact",
            "config", "skill eval", "skill train", "memory revert"} <= names
    assert len(COMMANDS) >= 18


@dataclass
class Site:
    """A project in a damaged condition, and how to run `mimo` there."""

    root: Path
    env: dict[str, str]
    preexec: Callable[[], None] | None = None
    user: list[str] = field(default_factory=list)

    @property
    def mimo_dir(self) -> Path:
        return self.root / ".mimo"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.user, sys.executable, "-m", "mimo_tui", *argv], cwd=self.root, env=self.env,
                              capture_output=True, text=True, errors="replace", timeout=180, preexec_fn=self.preexec,
                              stdin=subprocess.DEVNULL)

    def git(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", f"--git-dir={self.mimo_dir / '.git'}", f"--work-tree={self.mimo_dir}", *args],
                              capture_output=True, text=True, errors="replace")

    def files(self) -> dict[str, str]:
        """Digests of the memory files (not git data, databases, caches or trainer runs)."""
        found = {}
        for folder, dirs, names in os.walk(self.mimo_dir):
            dirs[:] = [d for d in dirs if not (Path(folder) == self.mimo_dir and d in SKIPPED_DIRS)]
            for name in names:
                if ".db" not in name:
                    path = Path(folder, name)
                    found[str(path.relative_to(self.mimo_dir))] = hashlib.sha1(path.read_bytes()).hexdigest()
        return found


def make_project(parent: Path, env: dict[str, str]) -> Path:
    """A git project whose memory repo, state.db and index.db exist, with one remembered fact."""
    root = parent / "proj"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / "app.py").write_text("print('hello')\n")
    out = subprocess.run([sys.executable, "-m", "mimo_tui", "run", "remember zq-setup fact"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    subprocess.run([sys.executable, "-m", "mimo_tui", "memory", "reindex"], cwd=root, env=env, check=True,
                   capture_output=True, timeout=120)
    assert (root / ".mimo" / "state.db").exists() and (root / ".mimo" / "index.db").exists()
    return root


def home_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share")}


@pytest.fixture
def read_only_site(world_readable_dir: Path) -> Site:
    """The project as another user sees it: `.mimo/` and everything in it is read-only to them."""
    root = make_project(world_readable_dir, home_env(world_readable_dir / "root-home"))
    home = world_readable_dir / "nobody-home"
    home.mkdir()
    if os.geteuid() == 0:
        os.chown(home, NOBODY, NOBODY)
    user = read_only_for_a_user(root / ".mimo")
    probe = subprocess.run([*user, "touch", str(root / ".mimo" / "probe")], capture_output=True)
    assert probe.returncode != 0, "the memory folder must be read-only to the other user"
    return Site(root, home_env(home), user=user)


@pytest.fixture
def corrupt_db_site(tmp_path: Path) -> Site:
    env = home_env(tmp_path / "home")
    root = make_project(tmp_path, env)
    for name in ("state.db", "index.db"):
        for extra in ("-wal", "-shm"):
            (root / ".mimo" / f"{name}{extra}").unlink(missing_ok=True)
        (root / ".mimo" / name).write_bytes(b"this is not a database, it was damaged\n" * 200)
    return Site(root, env)


@pytest.fixture
def full_disk_site(world_readable_dir: Path) -> Iterator[Site]:
    """The project on a filesystem with no space left: a small tmpfs filled up (as root), else a file-size
    limit of 0 bytes on the command (RLIMIT_FSIZE), which makes every write that grows a file fail."""
    mount = world_readable_dir / "disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                             capture_output=True).returncode == 0
    try:
        env = home_env(mount / "home")
        root = make_project(mount, env)
        preexec = None
        if mounted:
            with (mount / "filler").open("wb", buffering=0) as filler:
                try:
                    while True:
                        filler.write(b"\0" * 4096)
                except OSError:
                    pass
            assert shutil.disk_usage(mount).free < 4096
        else:
            def preexec() -> None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        yield Site(root, env, preexec=preexec)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def check_every_command(site: Site) -> list[str]:
    """Run every command at `site`; returns what went wrong (a traceback, a silent failure, something lost)."""
    wrong = []
    for argv in COMMANDS:
        head = site.git("rev-parse", "HEAD").stdout.strip()
        before = site.files()
        out = site.run(*argv)
        said = out.stdout + out.stderr
        name = " ".join(argv)
        if "Traceback" in said:
            wrong.append(f"{name}: traceback\n{said[-1500:]}")
            continue
        if out.returncode not in (0, 1) and not out.stderr.strip():
            wrong.append(f"{name}: exit {out.returncode} without a message")
        status = site.git("status", "--porcelain", "--untracked-files=no").stdout.strip()
        if status:
            wrong.append(f"{name}: left memory files changed but uncommitted: {status}")
        after_head = site.git("rev-parse", "HEAD").stdout.strip()
        if site.git("merge-base", "--is-ancestor", head, after_head).returncode != 0:
            wrong.append(f"{name}: history lost ({head[:8]} is no longer in HEAD {after_head[:8]})")
        if out.returncode not in (0, 1) and (after_head != head or site.files() != before):
            wrong.append(f"{name}: failed (exit {out.returncode}) but changed memory files or history")
    return wrong


def test_every_command_with_a_read_only_memory_folder(read_only_site: Site) -> None:
    assert check_every_command(read_only_site) == []


def test_every_command_with_corrupt_state_and_index_databases(corrupt_db_site: Site) -> None:
    assert check_every_command(corrupt_db_site) == []


def test_every_command_on_a_full_disk(full_disk_site: Site) -> None:
    assert check_every_command(full_disk_site) == []


def test_the_reported_cases_say_what_and_where(read_only_site: Site) -> None:
    for argv in (["memory", "search", "zq"], ["memory", "reindex"], ["history", "search", "zq"]):
        out = read_only_site.run(*argv)
        assert "Traceback" not in out.stderr and out.stderr.startswith("mimo:") or out.returncode == 0, out.stderr


def test_corrupt_state_db_names_the_file(corrupt_db_site: Site) -> None:
    out = corrupt_db_site.run("history", "search", "zq")
    assert out.returncode == 2 and "state.db" in out.stderr and "damaged" in out.stderr and "Traceback" not in out.stderr


def test_a_closed_pipe_ends_quietly(git_project: Path) -> None:
    """`mimo memory log | head -1` with more output than a pipe holds."""
    env = os.environ.copy()
    assert subprocess.run([sys.executable, "-m", "mimo_tui", "memory", "log"], cwd=git_project, env=env,
                          capture_output=True).returncode == 0
    mimo_dir = git_project / ".mimo"
    long = "note " * 400
    for number in range(60):
        with (mimo_dir / "MEMORY.md").open("a") as handle:
            handle.write(f"- zq-log-{number}\n")
        subprocess.run(["git", f"--git-dir={mimo_dir / '.git'}", f"--work-tree={mimo_dir}", "-c", "user.name=t",
                        "-c", "user.email=t@t", "commit", "-qm", f"{number} {long}", "--", "MEMORY.md"], check=True)
    for argv in (["memory", "log"], ["memory", "show", "HEAD"]):
        proc = subprocess.Popen([sys.executable, "-m", "mimo_tui", *argv], cwd=git_project, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # what `head -1` does after its line
        err = proc.stderr.read().decode()
        proc.wait(60)
        assert first and "Traceback" not in err and "BrokenPipe" not in err, err


def test_every_command_ends_quietly_when_its_reader_is_gone(git_project: Path) -> None:
    """`mimo ... | head` for every command: the reader has gone before the first line, and no traceback follows."""
    env = os.environ.copy()
    noisy = []
    for argv in COMMANDS:
        read_end, write_end = os.pipe()
        os.close(read_end)  # what `head` does once it has its lines: the pipe has no reader left
        try:
            out = subprocess.run([sys.executable, "-m", "mimo_tui", *argv], cwd=git_project, env=env, stdout=write_end,
                                 stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, errors="replace",
                                 timeout=180)
        finally:
            os.close(write_end)
        if "Traceback" in out.stderr or "BrokenPipe" in out.stderr:
            noisy.append(f"mimo {' '.join(argv)}: {out.stderr[-600:]}")
    assert noisy == []
