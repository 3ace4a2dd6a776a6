"""Save-to-committed, log and diff through VersionedStore in a memory repo with 10,000 commits.

Run from the project root: `/work/venv/bin/python bench/store_commit.py [--saves 50] [--rebuild]`.
The 10k-commit repo is built once with `git fast-import` and cached under /tmp/mimo-bench-10k;
each run works on a copy, so the cache stays at exactly 10,000 commits. The reference is raw git in
the same repo, interleaved with the saves: append a line to a file, `git add` it, `git commit`.
A fresh repo with one commit is measured as the saves are, to show what history size costs.
`--tiny` builds a 200-commit repo in a temp folder and saves 3 times (the test suite runs that).
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mimo_tui.store import VersionedStore, Writer  # noqa: E402
from mimo_tui.store.git_runner import GitRunner  # noqa: E402
from mimo_tui.store.memory_repo import GITIGNORE  # noqa: E402

CACHE = Path("/tmp/mimo-bench-10k")
COMMITS = 10_000
OTHER_FILES = 300
ROLES = ("user", "agent", "dream", "distill", "checkpoint-writer", "external")
SAVE_BUDGET_MS = 30.0
READ_BUDGET_MS = 100.0


def memory_text(rng: random.Random, lines: int) -> list[str]:
    """Lines of a plausible MEMORY.md: headings and bullet claims of 60-90 characters."""
    words = ("build", "port", "tests", "cache", "schema", "deploy", "retry", "config", "session", "index",
             "commit", "parser", "token", "budget", "review", "skill", "dataset", "latency", "migration", "lint")
    out = ["# Project memory", ""]
    for i in range(lines):
        if i % 20 == 0:
            out += ["", f"## Section {i // 20 + 1}", ""]
        out.append("- " + " ".join(rng.choice(words) for _ in range(rng.randint(9, 13))) + f" (#{i})")
    return out


def build_repo(target: Path, commits: int = COMMITS) -> None:
    """A memory repo whose history has COMMITS commits, each touching MEMORY.md, a third also another file."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    git = GitRunner(target)
    git.run("init", "-q")
    branch = git.out("symbolic-ref", "HEAD").strip()
    rng = random.Random(7)
    memory = memory_text(rng, 90)
    bullets = [i for i, line in enumerate(memory) if line.startswith("- ")]
    others = [f"sessions/s{i:03d}/checkpoint.md" for i in range(OTHER_FILES // 2)]
    others += [f"skills/skill{i:03d}/SKILL.md" for i in range(OTHER_FILES - len(others))]
    other_text: dict[str, str] = {}
    stream = io.BytesIO()

    def data(blob: bytes) -> None:
        stream.write(b"data %d\n" % len(blob) + blob + b"\n")

    when = 1_700_000_000
    for n in range(1, commits + 1):
        when += rng.randint(30, 900)
        role = rng.choice(ROLES)
        victim = rng.choice(bullets)
        memory[victim] = f"- {role} revised note {n}: " + " ".join(rng.sample(memory[victim].split()[1:], 8))
        stream.write(f"commit {branch}\nmark :{n}\n".encode())
        stream.write(f"author {role} <{role}@mimo> {when} +0000\ncommitter mimo <mimo@localhost> {when} +0000\n".encode())
        data(f"memory: {role} updated MEMORY.md (step {n})".encode())
        if n > 1:
            stream.write(f"from :{n - 1}\n".encode())
        if n == 1:
            stream.write(b"M 100644 inline .gitignore\n")
            data(GITIGNORE.encode())
        stream.write(b"M 100644 inline MEMORY.md\n")
        data(("\n".join(memory) + "\n").encode())
        if n % 3 == 0:
            path = rng.choice(others)
            other_text[path] = other_text.get(path, f"# {path}\n") + f"- note {n} by {role}\n"
            stream.write(f"M 100644 inline {path}\n".encode())
            data(other_text[path].encode())
    subprocess.run(["git", "fast-import", "--quiet"], input=stream.getvalue(), check=True,
                   env=git._env, cwd=target)
    git.run("reset", "-q", "--hard")
    git.run("gc", "-q")


def ensure_cached(rebuild: bool) -> float | None:
    marker = CACHE / ".git" / "bench-complete"
    if rebuild or not marker.exists():
        start = time.perf_counter()
        build_repo(CACHE)
        marker.write_text(str(COMMITS))
        return time.perf_counter() - start
    return None


class GitCalls:
    """Wraps a GitRunner to record (subcommand, seconds) of each git process it starts."""

    def __init__(self, runner: GitRunner) -> None:
        self.calls: list[tuple[str, float]] = []
        original = runner.run

        def timed(*args: str, **kwargs):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.calls.append((args[0], time.perf_counter() - start))

        runner.run = timed  # type: ignore[method-assign]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class SaveSeries:
    """Appends one line to a store's MEMORY.md per save and records the save's and its git calls' times."""

    def __init__(self, store: VersionedStore) -> None:
        self.store = store
        self.git = GitCalls(store.git)
        self.text = store.read("MEMORY.md").text or ""
        self.rng = random.Random(11)
        self.times: list[float] = []
        self.per_call: dict[str, list[float]] = defaultdict(list)
        self.outside_git: list[float] = []

    def save(self) -> None:
        self.text += f"- benchmark note {len(self.times)}: {self.rng.random():.6f} keeps the saved line unique\n"
        self.git.calls.clear()
        start = time.perf_counter()
        info = self.store.write("MEMORY.md", self.text, Writer("user"))
        elapsed = (time.perf_counter() - start) * 1000
        assert info is not None, "save made no commit"
        self.times.append(elapsed)
        for name, seconds in self.git.calls:
            self.per_call[name].append(seconds * 1000)
        self.outside_git.append(elapsed - sum(seconds for _, seconds in self.git.calls) * 1000)


def measure_reads(store: VersionedStore, calls: int) -> tuple[list[float], list[float], int]:
    log_ms: list[float] = []
    entries = 0
    for _ in range(calls):
        start = time.perf_counter()
        entries = len(store.log("MEMORY.md", limit=200))
        log_ms.append((time.perf_counter() - start) * 1000)
    shas = store.git.out("rev-list", "HEAD", "--", "MEMORY.md").split()
    rng = random.Random(5)
    diff_ms: list[float] = []
    for _ in range(calls):
        sha = rng.choice(shas)
        start = time.perf_counter()
        assert "MEMORY.md" in store.diff(sha, "MEMORY.md")
        diff_ms.append((time.perf_counter() - start) * 1000)
    return log_ms, diff_ms, entries


class RawGitSeries:
    """The reference: the same append-and-commit done with plain git processes in the same repo."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "raw-git.md"
        self.times: list[float] = []
        self.env = {**GitRunner(folder)._env, "GIT_AUTHOR_NAME": "raw", "GIT_AUTHOR_EMAIL": "raw@bench",
                    "GIT_COMMITTER_NAME": "raw", "GIT_COMMITTER_EMAIL": "raw@bench"}

    def save(self) -> None:
        start = time.perf_counter()
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(f"- raw note {len(self.times)}\n")
        for args in (["add", "raw-git.md"], ["commit", "-q", "-m", f"raw commit {len(self.times)}"]):
            subprocess.run(["git", *args], cwd=self.folder, env=self.env, check=True, capture_output=True)
        self.times.append((time.perf_counter() - start) * 1000)


def fresh_repo(folder: Path) -> VersionedStore:
    """A memory repo with one commit and a MEMORY.md the size of the big repo's."""
    git = GitRunner(folder)
    git.run("init", "-q")
    (folder / ".gitignore").write_text(GITIGNORE)
    (folder / "MEMORY.md").write_text("\n".join(memory_text(random.Random(7), 90)) + "\n")
    git.run("add", "-A")
    git.run("commit", "-q", "-m", "memory: created the memory repo")
    return VersionedStore(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help=f"rebuild the cached repo in {CACHE}")
    parser.add_argument("--tiny", action="store_true", help="a 200-commit repo in a temp folder, 3 saves, 2 reads")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mimo-bench-store-"))
    if args.tiny:
        args.saves, args.reads = 3, 2
        source = work / "tiny-source"
        build_repo(source, commits=200)
    else:
        source = CACHE
        built = ensure_cached(args.rebuild)
        if built is not None:
            print(f"built {CACHE} with {COMMITS} commits in {built:.1f} s (git fast-import)")
    try:
        big_dir = work / "big"
        shutil.copytree(source, big_dir, symlinks=True)
        big = VersionedStore(big_dir)
        count = int(big.git.out("rev-list", "--count", "HEAD"))
        size = len((big_dir / "MEMORY.md").read_bytes())
        (work / "small").mkdir()
        small = fresh_repo(work / "small")
        big_series, small_series, raw_series = SaveSeries(big), SaveSeries(small), RawGitSeries(big_dir)
        for _ in range(args.saves):  # interleaved, so all see the same machine load
            big_series.save()
            raw_series.save()
            small_series.save()
        log_ms, diff_ms, entries = measure_reads(big, args.reads)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, values: list[float], budget: float) -> None:
        median = statistics.median(values)
        verdict = "ok" if median < budget else "MISSED"
        print(f"  {name:<56} {median:7.1f} {percentile(values, 0.95):7.1f}   < {budget:3.0f} ms  {verdict}")

    print(f"memory repo with {count} commits, MEMORY.md {size / 1024:.1f} KB growing one line per save")
    print(f"  {'what (ms)':<56} {'median':>7} {'p95':>7}   budget (median)")
    row(f"save -> committed, {count} commits (n={args.saves})", big_series.times, SAVE_BUDGET_MS)
    row(f"reference: raw git add + commit, same repo (n={args.saves})", raw_series.times, SAVE_BUDGET_MS)
    row(f"save -> committed, 1-commit repo (n={args.saves})", small_series.times, SAVE_BUDGET_MS)
    row(f"log MEMORY.md limit=200 ({entries} rows, n={args.reads})", log_ms, READ_BUDGET_MS)
    row(f"diff <random sha> MEMORY.md (n={args.reads})", diff_ms, READ_BUDGET_MS)
    ratio = statistics.median(big_series.times) / statistics.median(raw_series.times)
    print(f"  save / raw git commit in the same repo: {ratio:.2f} x")
    ratio = statistics.median(big_series.times) / statistics.median(small_series.times)
    print(f"  save ratio {count} commits / 1 commit: {ratio:.2f} x")
    print()
    print("where a save's time goes (median ms, 10k-commit repo | 1-commit repo):")
    for name in big_series.per_call:
        count = len(big_series.per_call[name]) / args.saves
        small = small_series.per_call.get(name)
        small_ms = f"{statistics.median(small):6.1f}" if small else "     -"
        print(f"  git {name:<12} x{count:.0f} per save  {statistics.median(big_series.per_call[name]):6.1f} | {small_ms}")
    print(f"  outside git (read, digest, atomic write + fsync)  "
          f"{statistics.median(big_series.outside_git):6.1f} | {statistics.median(small_series.outside_git):6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
