"""Dream and distill on a synthetic 30-session history with planted duplicates, stale paths and three workflows.

Run from the project root: `.venv/bin/python bench/dream_distill.py [--tiny] [--server]`.
Builds a throwaway project: source files, a MEMORY.md of distinct facts (some citing files that exist) plus
planted near-duplicates (backticks dropped, punctuation and case changed) and planted stale entries (citing
files that do not exist), and a session store of 30 sessions: three workflows repeated 4, 3 and 3 times, and
20 one-off requests. Prints: duplicates merged (right and wrong), stale paths caught (and false flags), distill's
workflow precision and recall, MEMORY.md size before and after, model calls and tokens, wall time.
The dream runs on the offline default (no model pass: 0 calls); `--server` also runs the model pass against a
local OpenAI-compatible server (tests/fixtures/openai_server.py) that answers with the file it was sent.
`--tiny` plants fewer entries (the test suite runs that).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mimo_tui.maintenance.distill import DistillSettings, plan_distill  # noqa: E402
from mimo_tui.maintenance.dream import DreamSettings, apply_plan, plan_dream  # noqa: E402
from mimo_tui.memory.templates import PROJECT_MEMORY  # noqa: E402
from mimo_tui.project import Project  # noqa: E402
from mimo_tui.sessions import SessionStore  # noqa: E402

SUBJECTS = ["parser", "cache", "router", "scheduler", "auth", "billing", "search", "export", "importer", "mailer",
            "metrics", "uploader", "renderer", "queue", "locks", "config", "cli", "migrations", "webhooks", "tokens"]
VERBS = ["is retried", "is flushed", "is rebuilt", "is validated", "is logged", "is throttled", "is sharded",
         "is cached", "is compressed", "is signed"]
WORKFLOWS = [  # (request template, argument values, tool calls)
    ("Bump the version to {} and update the changelog", ["1.4.0", "1.5.0", "2.0.1", "2.1.0"],
     [("read_file", {"path": "pyproject.toml"}), ("edit_file", {"path": "pyproject.toml"}),
      ("edit_file", {"path": "CHANGELOG.md"}), ("bash", {"command": "git commit -am bump"})]),
    ("Add a database migration for the {} table", ["orders", "invoices", "refunds"],
     [("glob", {"pattern": "migrations/*.py"}), ("read_file", {"path": "migrations/0001_init.py"}),
      ("write_file", {"path": "migrations/0002_x.py"}), ("bash", {"command": "alembic upgrade head"}),
      ("bash", {"command": "pytest -q tests/test_migrations.py"})]),
    ("The nightly build failed: triage {}, fix it and rerun the checks", ["test_parser", "test_cache", "test_auth"],
     [("bash", {"command": "pytest -q"}), ("read_file", {"path": "src/a.py"}), ("grep", {"pattern": "def "}),
      ("edit_file", {"path": "src/a.py"}), ("bash", {"command": "pytest -q tests/test_a.py"}),
      ("bash", {"command": "ruff check src"}), ("bash", {"command": "git diff"})]),
]
ONE_OFFS = [
    ("Explain what the scheduler module does", [("read_file", {"path": "src/scheduler.py"})]),
    ("Rename the logger module to logging_setup", [("glob", {"pattern": "**/*.py"}), ("bash", {"command": "git mv a b"})]),
    ("Why is the export slow on large files?", [("grep", {"pattern": "export"}), ("read_file", {"path": "src/export.py"})]),
    ("Write a README section about installing on Windows", [("read_file", {"path": "README.md"}),
                                                            ("edit_file", {"path": "README.md"})]),
    ("Delete the unused fixtures folder", [("list_dir", {"path": "tests"}), ("bash", {"command": "rm -r tests/old"})]),
    ("Convert the settings loader to dataclasses", [("read_file", {"path": "src/config.py"}),
                                                    ("write_file", {"path": "src/config.py"})]),
    ("How many endpoints does the API expose?", [("grep", {"pattern": "@app.route"})]),
    ("Pin requests below 3 in the lock file", [("edit_file", {"path": "requirements.txt"}),
                                               ("bash", {"command": "pip-compile"})]),
    ("Set up a pre-commit hook for black", [("write_file", {"path": ".pre-commit-config.yaml"}),
                                            ("bash", {"command": "pre-commit install"})]),
    ("Profile the importer with cProfile", [("bash", {"command": "python -m cProfile src/importer.py"})]),
    ("Summarise yesterday's incident notes", [("read_file", {"path": "docs/incident.md"})]),
    ("Make the CLI print JSON with --json", [("read_file", {"path": "src/cli.py"}), ("edit_file", {"path": "src/cli.py"}),
                                            ("bash", {"command": "python -m src.cli --json"})]),
    ("Find where the session cookie is set", [("grep", {"pattern": "set_cookie"})]),
    ("Draft an ADR for moving to Postgres", [("write_file", {"path": "docs/adr/0007.md"})]),
    ("Translate the error messages to German", [("glob", {"pattern": "locale/**"}), ("write_file", {"path": "locale/de.po"})]),
    ("Check the licence of every dependency", [("bash", {"command": "pip-licenses"})]),
    ("Add type hints to the mailer", [("read_file", {"path": "src/mailer.py"}), ("edit_file", {"path": "src/mailer.py"}),
                                      ("bash", {"command": "mypy src/mailer.py"})]),
    ("Resize the logo for the docs site", [("bash", {"command": "convert logo.png -resize 50% logo-small.png"})]),
    ("List the open TODOs in the codebase", [("grep", {"pattern": "TODO"})]),
    ("Tell me the Python version we support", [("read_file", {"path": "pyproject.toml"})]),
]


def build_memory(root: Path, facts: int, duplicates: int, stale: int) -> tuple[str, set[str], set[str]]:
    """MEMORY.md text, the planted duplicate lines and the planted stale lines."""
    (root / "src").mkdir(parents=True, exist_ok=True)
    entries: list[str] = []
    for n in range(facts):
        subject, verb = SUBJECTS[n % len(SUBJECTS)], VERBS[n // len(SUBJECTS) % len(VERBS)]
        path = f"src/{subject}.py"
        (root / path).write_text(f"def handle_{subject}():\n    pass\n")
        entries.append(f"- The {subject} {verb} after {n + 2} failures; see `{path}`.")
    planted_dupes = set()
    for n in range(duplicates):
        original = entries[n * 3 % len(entries)]
        dupe = original.replace("`", "").replace("The ", "the ", 1).rstrip(".") + ""
        planted_dupes.add(dupe)
        entries.append(dupe)
    planted_stale = set()
    for n in range(stale):
        line = f"- Legacy {SUBJECTS[n]} hooks are registered in `src/legacy/{SUBJECTS[n]}_hooks_v{n}.py`."
        planted_stale.add(line)
        entries.append(line)
    half = len(entries) // 2
    lines, out = PROJECT_MEMORY.split("\n"), []
    for i, line in enumerate(lines):
        out.append(line)
        if i > 0 and lines[i - 1] == "## Architecture decisions":
            out += entries[:half]
        if i > 0 and lines[i - 1] == "## Discovered durable knowledge":
            out += entries[half:]
    return "\n".join(out), planted_dupes, planted_stale


def build_sessions(sessions: SessionStore) -> int:
    count = 0

    def session(request: str, calls: list[tuple[str, dict]]) -> None:
        nonlocal count
        record = sessions.create("offline/agent")
        sessions.add_message(record.id, 1, "user", request)
        for n, (name, args) in enumerate(calls):
            call = {"id": f"c{n}", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            sessions.add_message(record.id, 1, "assistant", "", tool_calls=[call])
            sessions.add_message(record.id, 1, "tool", "ok", tool_call_id=f"c{n}", tool_name=name)
        sessions.add_message(record.id, 1, "assistant", "Done.")
        count += 1

    for template, values, calls in WORKFLOWS:
        for value in values:
            session(template.format(value), calls)
    for request, calls in ONE_OFFS:
        session(request, calls)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--server", action="store_true", help="also run the model pass against a local server")
    args = parser.parse_args()
    facts, duplicates, stale = (30, 5, 4) if args.tiny else (120, 20, 12)
    with tempfile.TemporaryDirectory(prefix="mimo-bench-dream-") as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        text, planted_dupes, planted_stale = build_memory(root, facts, duplicates, stale)
        project = Project.open(root)
        project.store.write("MEMORY.md", text)
        sessions = SessionStore(project.workspace.state_db)
        n_sessions = build_sessions(sessions)

        started = time.perf_counter()
        settings = DreamSettings(max_lines=10_000, max_bytes=10_000_000)  # caps measured apart, below
        plan = plan_dream(project.store, root, settings)
        calls, tokens = 0, 0
        if args.server:
            calls, tokens = model_pass_against_server(plan, project, settings)
        review = apply_plan(project.store, plan)
        dream_s = time.perf_counter() - started
        merged_right = sum(c.before in planted_dupes for c in review.consolidated)
        flagged = [c for c in review.updated if c.why.startswith("not found")]
        caught = sum(c.before in planted_stale for c in flagged)
        print(f"dream ({n_sessions} sessions, {facts} facts + {duplicates} planted duplicates + {stale} stale)")
        print(f"  duplicates merged: {merged_right}/{duplicates} planted, {len(review.consolidated) - merged_right} "
              "wrong merges")
        print(f"  stale paths caught: {caught}/{stale} planted, {len(flagged) - caught} false flags")
        print(f"  MEMORY.md: {review.size_before[0]} -> {review.size_after[0]} lines, "
              f"{review.size_before[1]} -> {review.size_after[1]} bytes")
        print(f"  model calls: {calls}, tokens: {tokens}" + ("" if args.server else " (offline default: no model pass)"))
        print(f"  wall time: {dream_s * 1000:.0f} ms{' (with litellm import and the call)' if args.server else ''}, "
              f"one commit: {review.commit is not None}")

        capped = DreamSettings()
        project.store.write("MEMORY.md", text + "\n" + "\n".join(
            f"- Extra fact {n}: the worker pool size is {n + 10}." for n in range(250)) + "\n")
        cap_plan = plan_dream(project.store, root, capped)
        cap_review = apply_plan(project.store, cap_plan)
        print(f"  caps ({capped.max_lines} lines, {capped.max_bytes} bytes): {cap_review.size_before[0]} lines / "
              f"{cap_review.size_before[1]} bytes -> {cap_review.size_after[0]} / {cap_review.size_after[1]}")

        started = time.perf_counter()
        distill = plan_distill(sessions, root, DistillSettings())
        distill_s = time.perf_counter() - started
        keys = [template.split(" ")[0:3] for template, _, _ in WORKFLOWS]
        hits = set()
        right = 0
        for proposal in distill.proposals:
            match = next((n for n, key in enumerate(keys) if " ".join(key) in proposal.text), None)
            if match is not None:
                right += 1
                hits.add(match)
        precision = right / len(distill.proposals) if distill.proposals else 1.0
        print(f"distill ({distill.requests} requests)")
        print(f"  workflows found: {len(hits)}/{len(WORKFLOWS)} planted; precision {precision:.2f}, "
              f"recall {len(hits) / len(WORKFLOWS):.2f}")
        for proposal in distill.proposals:
            print(f"    {proposal.kind:<8} {proposal.name} (seen {proposal.times} times)")
        print(f"  model calls: 0, wall time: {distill_s * 1000:.0f} ms")
        sessions.close()
    return 0


def model_pass_against_server(plan, project, settings) -> tuple[int, int]:
    """The model pass against a local server that answers with the MEMORY.md it was sent (a no-op consolidation)."""
    import re

    from mimo_tui.llm import Gateway, resolve_model
    from mimo_tui.maintenance.dream.model_pass import consolidate_with_model
    from tests.fixtures.openai_server import LocalOpenAIServer, Reply, ToolCall

    def echo(body: dict) -> Reply:
        sent = body["messages"][1]["content"]
        memory = re.search(r"```markdown\n(.*?)\n```", sent, re.S)
        content = memory.group(1) if memory else ""
        return Reply(tool_calls=[ToolCall("write_memory_file", json.dumps({"path": "MEMORY.md", "content": content}))])

    with LocalOpenAIServer() as server:
        server.responder = echo
        spec = resolve_model("bench", {"bench": {"model": "openai/test", "api_base": server.base_url,
                                                 "api_key": "sk-bench"}})
        consolidate_with_model(plan, spec, Gateway(max_retries=0), project.store, project.root, settings)
    return plan.review.model_calls, plan.review.model_tokens


if __name__ == "__main__":
    raise SystemExit(main())
