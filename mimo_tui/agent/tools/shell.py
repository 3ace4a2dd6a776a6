"""The bash tool: a shell command in the project root, with a timeout and an output cap."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from mimo_tui.agent.permissions import ALLOW, DENY, CommandVerdict, PermissionPolicy
from mimo_tui.agent.tools.arguments import int_arg, schema, text_arg
from mimo_tui.agent.tools.base import ToolContext, ToolResult, ToolSpec

OUTPUT_CAP = 30_000
DEFAULT_TIMEOUT_S = 120


def cap_output(text: str, cap: int = OUTPUT_CAP) -> str:
    """Keep the head and the tail of a long output, saying how much was cut."""
    if len(text) <= cap:
        return text
    half = cap // 2
    return f"{text[:half]}\n[... {len(text) - cap} characters cut ...]\n{text[-half:]}"


async def read_capped(stream: asyncio.StreamReader, keep: int = OUTPUT_CAP * 4) -> str:
    """All of a stream, read to the end so the process never blocks, but only its head and tail kept in memory."""
    head = bytearray()
    tail = bytearray()
    dropped = 0
    while chunk := await stream.read(65536):
        room = keep - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        tail += chunk
        if len(tail) > keep:
            dropped += len(tail) - keep
            del tail[: len(tail) - keep]
    middle = f"\n[... {dropped} bytes cut ...]\n".encode() if dropped else b""
    return bytes(head + middle + tail).decode("utf-8", errors="replace")


MARKS = {ALLOW: "✓", DENY: "✗"}


def describe_verdict(command: str, verdict: CommandVerdict) -> str:
    """`$ ls; touch /x` followed by one line per part: `✓ ls  (allowed)`, `? touch /x  (no rule allows it)`."""
    lines = [f"$ {command}"]
    if not verdict.parsed.parsed:
        lines.append(f"  ? {verdict.parsed.error}: the whole command needs your approval")
    for part in verdict.parts:
        text = " ".join(part.part.text.split()) if "\n" not in part.part.text else part.part.text.splitlines()[0] + " …"
        lines.append(f"  {MARKS.get(part.action, '?')} {text}  ({part.reason})")
    return "\n".join(lines)


class Bash:
    """Run a shell command."""

    read_only = False
    spec = ToolSpec(
        "bash",
        "Run a bash command in the project root and return its exit code and output (stdout and stderr, capped). "
        "Optional timeout_s.",
        schema({"command": {"type": "string"}, "timeout_s": {"type": "integer"}}, ["command"]),
    )

    def __init__(self, default_timeout_s: int = DEFAULT_TIMEOUT_S) -> None:
        self.default_timeout_s = default_timeout_s

    def permission_subject(self, args: dict[str, Any]) -> str:
        raw = args.get("command")
        return raw.strip() if isinstance(raw, str) else ""

    def preview(self, args: dict[str, Any], ctx: ToolContext) -> str:
        """The command and, part by part, whether the rules allow it and why not."""
        command = self.permission_subject(args)
        policy = ctx.services.get("permissions")
        if not isinstance(policy, PermissionPolicy):
            policy = PermissionPolicy.from_config(None)
        return describe_verdict(command, policy.judge_command(self.spec.name, command))

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        command = text_arg(args, "command")
        timeout = int_arg(args, "timeout_s", self.default_timeout_s) or self.default_timeout_s
        process = await asyncio.create_subprocess_exec(
            "bash", "-c", command,
            cwd=str(ctx.project_root),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "TERM": "dumb", "PAGER": "cat", "GIT_PAGER": "cat"},
        )
        try:
            assert process.stdout is not None
            output = await asyncio.wait_for(read_capped(process.stdout), timeout)
            await process.wait()
        except (TimeoutError, asyncio.CancelledError) as exc:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            await process.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return ToolResult(f"command timed out after {timeout} s and was killed: {command}", is_error=True)
        text = cap_output(output)
        code = process.returncode
        body = f"exit code {code}\n{text}" if text else f"exit code {code} (no output)"
        return ToolResult(body, is_error=code != 0, summary=f"exit {code}")
