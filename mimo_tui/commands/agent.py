"""`mimo run "PROMPT"` (a headless agent turn) and `mimo sessions` (the stored sessions)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="run one agent turn headless and print the transcript")
    run.add_argument("prompt", help="the request ('-' reads it from stdin)")
    run.add_argument("--json", action="store_true", help="print one JSON object (the turn's record) as the last line")
    run.add_argument("--yes", action="store_true", help="answer permission asks with 'once' (default: reject them)")
    run.add_argument("--model", dest="run_model", help="model for this run (default: [model] default, offline/agent)")
    run.add_argument("--mode", choices=("build", "plan", "compose"), help="agent mode")
    run.add_argument("--session", help="continue this session (id, id prefix, or 'last')")
    run.add_argument("--goal", action="store_true",
                     help="the prompt is a goal condition: work until the judge model ([goal] judge) says it holds")
    run.set_defaults(handler=run_prompt)
    sessions = subparsers.add_parser("sessions", help="list the stored agent sessions, newest first")
    sessions.add_argument("-n", "--limit", type=int, default=20)
    sessions.add_argument("--show", metavar="ID", help="print one session's transcript")
    sessions.set_defaults(handler=list_sessions)


def _read_prompt(raw: str) -> str:
    return sys.stdin.read() if raw == "-" else raw


class HeadlessPrinter:
    """Subscriber that prints the turn as it happens (unless quiet) and keeps a record for --json."""

    def __init__(self, quiet: bool, yes: bool) -> None:
        self.quiet = quiet
        self.yes = yes
        self.text: list[str] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.work: list[str] = []  # goal, compose and subagent lines
        self.failed_writes: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.asks: list[dict[str, Any]] = []
        self.usage: dict[str, Any] = {}
        self.status = ""
        self.checkpoints: list[dict[str, Any]] = []
        self.rebuilds: list[dict[str, Any]] = []
        self._at_line_start = True

    def _out(self, text: str) -> None:
        if not self.quiet:
            sys.stdout.write(text)
            sys.stdout.flush()
            self._at_line_start = text.endswith("\n")

    def _line(self, text: str) -> None:
        self._out(("" if self._at_line_start else "\n") + text + "\n")

    def __call__(self, event: Any) -> None:
        from mimo_tui.agent import events as ev
        from mimo_tui.agent import work_events as wev

        if isinstance(event, wev.WorkEvent):
            if not isinstance(event, wev.SubagentProgress):  # the log shows each child call; the JSON how each ended
                self.work.append(wev.describe(event))
            self._line(wev.describe(event))
        elif isinstance(event, ev.TextDeltaEvent):
            self.text.append(event.text)
            self._out(event.text)
        elif isinstance(event, ev.AssistantMessageDone):
            self.text.append("\n")
            if not self._at_line_start:
                self._out("\n")
        elif isinstance(event, ev.ToolCallStarted):
            self._line(f"▸ {event.tool} {event.raw_arguments}")
        elif isinstance(event, ev.ToolCallFinished):
            first = event.summary or (event.content.splitlines()[0] if event.content else "")
            self._line(f"  {event.status} in {event.duration_s * 1000:.0f} ms: {first[:200]}")
            self.tool_calls.append(
                {"id": event.call_id, "tool": event.tool, "status": event.status, "duration_s": round(event.duration_s, 4),
                 "result": event.content, "write_failed": event.write_failed}
            )
            if event.write_failed:
                self.failed_writes.append(f"{event.tool}: {event.content}")
        elif isinstance(event, ev.PermissionRequest):
            answer = "once" if self.yes else "reject"
            self.asks.append({"tool": event.tool, "subject": event.subject, "answer": answer})
            self._line(f"? permission for {event.tool} on {event.subject!r}: {'allowed once (--yes)' if self.yes else 'rejected (headless; pass --yes to allow)'}")
            if event.tool == "bash":  # the parts of the command and why each one asks, as the workbench prompt shows them
                for line in event.preview.splitlines()[1:]:
                    self._line(f"  {line.strip()}")
            if not event.answer.done():
                event.answer.set_result(answer)
        elif isinstance(event, ev.UsageReported):
            self.usage = {
                "model": event.model, "prompt_tokens": event.prompt_tokens, "completion_tokens": event.completion_tokens,
                "cost_usd": event.cost_usd, "session_cost_usd": event.session_cost_usd,
                "context_tokens": event.context_tokens, "context_window": event.context_window,
            }
        elif isinstance(event, ev.HelperSpent) and self.usage:  # the JSON's session total counts helpers too
            self.usage["session_cost_usd"] = event.session_cost_usd
        elif isinstance(event, ev.ModelFailed):
            self.errors.append({"message": event.message, "provider_message": event.provider_message, "status": event.status})
            self._line(f"✗ model error: {event.provider_message or event.message}")
        elif isinstance(event, ev.TurnEnded):
            self.status = event.status
        elif isinstance(event, ev.CheckpointFinished):
            self.checkpoints.append({"status": event.status, "message": event.message, "refused": list(event.refused)})
            self.note(event.message)
            if event.status == "stopped":
                print(f"mimo: {event.message}", file=sys.stderr)
        elif isinstance(event, ev.RebuildWaiting):
            self.note(f"rebuilding the context: waiting for the checkpoint writer (at most {event.timeout_s:.0f} s)")
        elif isinstance(event, ev.ContextRebuilt):
            self.rebuilds.append({"reason": event.reason, "from_checkpoint": event.from_checkpoint,
                                  "tokens_before": event.tokens_before, "tokens_after": event.tokens_after})
            source = "checkpoint" if event.from_checkpoint else "summary (no checkpoint yet)"
            self.note(f"context rebuilt from {source}: {event.tokens_before:,} -> {event.tokens_after:,} tokens")

    def note(self, text: str) -> None:
        self._line(f"· {text}")


def run_prompt(args: argparse.Namespace) -> int:
    from mimo_tui.agent.setup import AgentServices, AgentSetupError, goal_settings, open_agent_session
    from mimo_tui.llm import Gateway
    from mimo_tui.project import Project

    prompt = _read_prompt(args.prompt)
    if not prompt.strip():
        print("mimo run: the prompt is empty", file=sys.stderr)
        return 2
    project = Project.open()
    services = AgentServices.open(project)
    for problem in services.problems:
        print(f"mimo: {problem}", file=sys.stderr)
    printer = HeadlessPrinter(quiet=args.json, yes=args.yes)
    llm = project.config.table("llm")
    gateway = Gateway(
        max_concurrency=int(llm.get("max_concurrency", 8)), max_retries=int(llm.get("max_retries", 4)),
        timeout_s=float(llm.get("timeout_s", 120.0)),
    )
    try:
        agent = open_agent_session(services, printer, gateway, model=args.run_model or getattr(args, "model", None),
                                   mode=args.mode, resume=args.session)
    except AgentSetupError as exc:
        print(f"mimo: {exc}", file=sys.stderr)
        return 2
    if args.goal:  # the request is a /goal run toward the prompt, judged by [goal] judge
        try:
            agent.context.services["goal"] = goal_settings(project, agent.spec)
        except AgentSetupError as exc:
            print(f"mimo: [goal] judge: {exc}", file=sys.stderr)
            return 2
    if not args.json:
        print(f"[{agent.spec.label} · {agent.mode} · session {agent.session_id}]")
    started = time.perf_counter()
    status, servers = asyncio.run(_run_and_settle(agent, services.mcp, prompt, printer))
    services.close()
    if args.json:
        record = {
            "session_id": agent.session_id,
            "model": agent.spec.name,
            "offline": agent.spec.offline,
            "mode": agent.mode,
            "status": status,
            "text": "".join(printer.text).strip(),
            "tool_calls": printer.tool_calls,
            "work": printer.work,
            "permission_asks": printer.asks,
            "errors": printer.errors,
            "failed_writes": printer.failed_writes,
            "usage": printer.usage,
            "checkpoints": printer.checkpoints,
            "context_rebuilds": printer.rebuilds,
            "mcp_servers": [
                {"name": s.name, "state": s.state, "tools": list(s.tool_names), "error": s.error}
                for s in servers
            ],
            "elapsed_s": round(time.perf_counter() - started, 3),
        }
        print(json.dumps(record, ensure_ascii=False))
    if printer.failed_writes:
        # A script must not take "the turn ran" for "it was saved": a write the turn asked for was not made.
        count = len(printer.failed_writes)
        print(f"mimo: {count} write{'s' if count > 1 else ''} of this turn failed and {'were' if count > 1 else 'was'} "
              f"not made: {printer.failed_writes[0][:300]}", file=sys.stderr)
    code = {"done": 0, "cancelled": 130}.get(status, 1)
    return 1 if code == 0 and printer.failed_writes else code


CHECKPOINT_WAIT_S = 120.0


async def _run_and_settle(agent: Any, servers: Any, prompt: str, printer: HeadlessPrinter) -> tuple[str, list[Any]]:
    """Run the turn, then let a checkpoint the turn started finish before the process exits."""
    result = await _run_with_servers(agent, servers, prompt)
    keeper = getattr(agent, "keeper", None)
    if keeper is not None and keeper.writer.running:
        printer.note("waiting for the checkpoint writer to finish")
        if not await keeper.finish(CHECKPOINT_WAIT_S):
            print(f"mimo: the checkpoint writer did not finish within {CHECKPOINT_WAIT_S:.0f} s; the last "
                  "checkpoint stays as it was", file=sys.stderr)
    return result


async def _run_with_servers(agent: Any, servers: Any, prompt: str) -> tuple[str, list[Any]]:
    """Start the MCP servers, wait (up to their startup timeout) so their tools are offered, run the turn, stop them.

    Returns how the (last) turn ended and each server's status as it ended. In compose mode the request is a
    whole compose run: spec, plan, then the tasks one by one; with --goal (services["goal"]) a /goal run.
    """
    from mimo_tui.agent.compose import run_user_request
    from mimo_tui.agent.goal import GoalRunner
    from mimo_tui.agent.work_events import GOAL_MET

    async def request() -> str:
        goal = agent.context.services.get("goal")
        tasks = agent.context.services["tasks"]
        if goal is not None:
            runner = GoalRunner(agent, goal)
            outcome = await runner.run(prompt)
            # A goal that was not met is a failed request for a script (exit 1); the work lines say why.
            status = runner.last_status if outcome == GOAL_MET or runner.last_status != "done" else "error"
        else:
            status = await run_user_request(agent, prompt, tasks)
        subagents = agent.context.services.get("subagents")
        if subagents is not None:  # background subagents started by the turn finish before the process ends
            await subagents.wait_all()
        return status

    if servers is None or not servers.names:
        return await request(), []
    servers.start_all()
    try:
        longest = max(servers.connection(name).startup_timeout_s for name in servers.names)
        # Importing the SDK (in a thread) comes before each server's own startup timeout starts.
        await servers.wait_started(timeout=longest + 5.0)
        for status in servers.status():
            if status.state == "failed":
                print(f"mimo: {status.error or f'MCP server {status.name!r} failed to start'}", file=sys.stderr)
                for line in status.stderr_tail.splitlines()[-5:]:
                    print(f"mimo:   {line}", file=sys.stderr)
            elif status.state == "starting":
                print(f"mimo: MCP server '{status.name}' is still starting; its tools come when it is ready", file=sys.stderr)
        status = await request()
        return status, servers.status()
    finally:
        await servers.stop_all()


def list_sessions(args: argparse.Namespace) -> int:
    from mimo_tui.project import Project
    from mimo_tui.sessions import SessionStore

    project = Project.open()
    store = SessionStore(project.workspace.state_db)
    if args.show:
        session = store.find(args.show)
        print(f"session {session.id} · {session.model} · {session.mode} · {session.title}")
        for message in store.messages(session.id):
            mark = "" if message.status == "complete" else f" [{message.status}]"
            if message.role == "tool":
                print(f"  [{message.tool_name} result{' error' if message.is_error else ''}]{mark} {message.content[:300]}")
            else:
                calls = " ".join(f"→{c.get('function', {}).get('name')}" for c in message.tool_calls)
                print(f"{message.role}{mark}: {message.content.strip()} {calls}".rstrip())
        return 0
    sessions = store.list(args.limit)
    if not sessions:
        print("no sessions yet; start one with `mimo` or `mimo run \"...\"`")
        return 0
    for s in sessions:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s.updated_at))
        print(f"{s.id}  {when}  {s.message_count:>4} msgs  ${s.cost_usd:.4f}  {s.model:<20} {s.mode:<5}  {s.title}")
    return 0
