"""The skill's scripts, run for the target during a rollout: a `run_script` tool the target may call.

Each call runs in a fresh temporary copy of the version's files (so a script sees its own references/ and scripts/
as they are in that version), with a stripped environment, its own process group and a timeout after which the
group is killed. This is a process sandbox, not a container: it does not cut the network or hide the file system.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

from mimo_tui.llm import Completion
from mimo_tui.skillopt.skill_files import SkillFileError, check_path

RUN_SCRIPT = "run_script"
MAX_OUTPUT_CHARS = 4000
MAX_ROUNDS = 3  # tool rounds of one rollout before the target must answer
INTERPRETERS = {".py": [sys.executable, "-I"], ".sh": ["bash"]}
RUN_SCRIPT_TOOL = {
    "type": "function",
    "function": {
        "name": RUN_SCRIPT,
        "description": "Run one of this skill's scripts (a path under scripts/) with optional arguments and standard "
                       "input; returns its exit status and output.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "args": {"type": "array", "items": {"type": "string"}},
                           "stdin": {"type": "string"}},
            "required": ["path"],
        },
    },
}


def has_scripts(files: dict[str, str]) -> bool:
    return any(path.startswith("scripts/") and Path(path).suffix in INTERPRETERS for path in files)


def _arguments(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def run_script(files: dict[str, str], arguments: dict[str, Any], timeout_s: float) -> str:
    """The tool's answer: `exit N` and the output, or why the script was not run."""
    try:
        path = check_path(str(arguments.get("path", "")))
    except SkillFileError as exc:
        return f"refused: {exc}"
    if not path.startswith("scripts/") or path not in files:
        return f"refused: {path} is not a script of this skill ({', '.join(p for p in files if p.startswith('scripts/')) or 'none'})"
    interpreter = INTERPRETERS.get(Path(path).suffix)
    if interpreter is None:
        return f"refused: no interpreter for {path} (runs {', '.join(INTERPRETERS)})"
    args = [str(a) for a in arguments.get("args", []) if isinstance(a, (str, int, float))] if isinstance(arguments.get("args"), list) else []
    stdin = str(arguments.get("stdin", "") or "")
    with tempfile.TemporaryDirectory(prefix="mimo-skill-script-") as scratch:
        for rel, text in files.items():
            target = Path(scratch) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": scratch, "TMPDIR": scratch}
        proc = await asyncio.create_subprocess_exec(
            *interpreter, path, *args, cwd=scratch, env=env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(stdin.encode("utf-8")), timeout_s)
        except asyncio.TimeoutError:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await proc.wait()
            return f"timed out after {timeout_s:g} s: {path} was stopped"
    text = out.decode("utf-8", errors="replace")
    cut = f"\n[... cut at {MAX_OUTPUT_CHARS} characters]" if len(text) > MAX_OUTPUT_CHARS else ""
    return f"exit {proc.returncode}\n{text[:MAX_OUTPUT_CHARS]}{cut}"


async def tool_round(messages: list[dict], completion: Completion, files: dict[str, str], timeout_s: float) -> list[dict]:
    """The conversation after the target's tool calls: its message, then one tool answer per call."""
    calls = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
             for c in completion.tool_calls]
    answers = []
    for call in completion.tool_calls:
        if call.name != RUN_SCRIPT:
            content = f"unknown tool {call.name!r}: only {RUN_SCRIPT} is available"
        else:
            content = await run_script(files, _arguments(call.arguments), timeout_s)
        answers.append({"role": "tool", "tool_call_id": call.id, "content": content})
    return [*messages, {"role": "assistant", "content": completion.text or None, "tool_calls": calls}, *answers]
