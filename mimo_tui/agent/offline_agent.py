"""The offline default model `offline/agent`: a rule-driven demo agent that really uses the tools.

It reads the conversation it is given, decides the next tool call from the user's request and the
tool results so far, and writes its answers from those results. It does not understand free text;
it says so, and it is labelled offline everywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mimo_tui.llm import OfflineReply, register_offline_model

NAME = "agent"
LABEL = "_(offline demo model: rule-driven, no real language model)_"
CHUNK_DELAY_S = 0.006
CHUNK_SIZE = 12
DEMO_TASK = "Get to know this project"
SIZE_COMMAND = "find . -type f -not -path './.git/*' -not -path './.mimo/*' | wc -l"


@dataclass
class TurnView:
    """The current turn as the offline model sees it: the request and the tool results so far."""

    request: str
    results: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    offered: set[str] = field(default_factory=set)

    def result_of(self, tool: str, **match: Any) -> str | None:
        """The latest result of `tool` whose arguments include `match`."""
        for name, args, content in reversed(self.results):
            if name == tool and all(args.get(k) == v for k, v in match.items()):
                return content
        return None

    def called(self, tool: str, **match: Any) -> bool:
        return self.result_of(tool, **match) is not None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def view_turn(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> TurnView:
    """Find the last user request and pair every later tool result with the call that asked for it."""
    start = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    request = _text_of(messages[start].get("content")) if start >= 0 else ""
    offered = {t.get("function", {}).get("name", "") for t in tools or []}
    view = TurnView(request.strip(), offered=offered)
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in messages[start + 1 :]:
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            try:
                args = json.loads(function.get("arguments") or "{}")
            except json.JSONDecodeError:
                args = {}
            calls[call.get("id", "")] = (function.get("name", ""), args if isinstance(args, dict) else {})
        if message.get("role") == "tool":
            name, args = calls.get(message.get("tool_call_id", ""), ("", {}))
            view.results.append((name, args, _text_of(message.get("content"))))
    return view


def _reply(text: str = "", calls: list[tuple[str, dict[str, Any]]] | None = None) -> OfflineReply:
    return OfflineReply(text=text, tool_calls=calls or [], chunk_delay=CHUNK_DELAY_S, chunk_size=CHUNK_SIZE)


def _failed(content: str) -> bool:
    lowered = content.lower()
    return lowered.startswith(("the user rejected", "denied", "plan mode", "there is no tool")) or "not valid json" in lowered


def describe_listing(content: str) -> str:
    """A sentence about a list_dir result: how many folders and files, and which."""
    lines = [line for line in content.splitlines() if line and not line.startswith("[")]
    if lines == ["(empty folder)"]:
        return "The folder is empty."
    folders = [line for line in lines if line.endswith("/")]
    files = [line for line in lines if not line.endswith("/")]

    def names(items: list[str]) -> str:
        shown = ", ".join(f"`{item}`" for item in items[:8])
        return shown + (f" and {len(items) - 8} more" if len(items) > 8 else "")

    parts = []
    if folders:
        parts.append(f"{len(folders)} folder{'s' if len(folders) != 1 else ''} ({names(folders)})")
    if files:
        parts.append(f"{len(files)} file{'s' if len(files) != 1 else ''} ({names(files)})")
    return f"I found {' and '.join(parts)}." if parts else "I found nothing to list."


# -- intents ----------------------------------------------------------------------------------------
LIST = re.compile(r"\b(list|ls|files|folders|what'?s here|directory|tree)\b", re.I)
READ = re.compile(r"\b(?:read|show|open|cat)\s+(?:the\s+file\s+)?`?([\w./-]+\.\w+|[\w./-]*/[\w.-]+)`?", re.I)
SEARCH = re.compile(r"\b(?:search|grep|find)\s+(?:for\s+)?[\"'`]?([^\"'`]+?)[\"'`]?\s*$", re.I)
RUN = re.compile(r"\brun\s+`([^`]+)`|\brun\s+(.+)$", re.I)
REMEMBER = re.compile(r"\bremember\s+(?:that\s+)?(.+)$", re.I | re.S)
TASK = re.compile(r"^(?:task|todo|add (?:a )?task)\s*:?\s+(.+)$", re.I | re.S)
EDIT = re.compile(r"\breplace\s+[\"'`](.+?)[\"'`]\s+with\s+[\"'`](.*?)[\"'`]\s+in\s+`?([\w./-]+)`?", re.I)
GREETING = re.compile(r"^\s*(hi|hello|hey|demo|good (morning|afternoon|evening)|start|tour)\b", re.I)
COMPOSE_GOAL = re.compile(r"^Compose goal:\s*(.+?)\n", re.S)
COMPOSE_TASK = re.compile(r"^Next task of the plan:\s*(T\d+(?:\.\d+)*)\s+(.+?)\n")
FOLDER = re.compile(r"\bin\s+`?([\w./-]+/?)`?\s*$", re.I)


def answer_list(view: TurnView) -> OfflineReply:
    folder_match = FOLDER.search(view.request)
    folder = folder_match.group(1) if folder_match and folder_match.group(1) not in ("here", "this") else "."
    result = view.result_of("list_dir")
    if result is None:
        return _reply(f"{LABEL}\n\nI'll list the files in `{folder}`.\n", [("list_dir", {"path": folder})])
    if _failed(result) or "not a folder" in result or "outside the project" in result:
        return _reply(f"I could not list `{folder}`: {result}")
    return _reply(f"{describe_listing(result)}\n\nThat is the real content of `{folder}`, read with `list_dir`.")


def answer_read(view: TurnView, path: str) -> OfflineReply:
    result = view.result_of("read_file")
    if result is None:
        return _reply(f"{LABEL}\n\nReading `{path}`.\n", [("read_file", {"path": path, "start_line": 1, "end_line": 40})])
    if result.startswith(("lines", " ")) or re.match(r"^\s*\d+  ", result):
        first = result.splitlines()[:12]
        return _reply(f"`{path}` begins like this:\n\n```\n" + "\n".join(first) + "\n```\n")
    return _reply(f"I could not read `{path}`: {result}")


def answer_search(view: TurnView, pattern: str) -> OfflineReply:
    result = view.result_of("grep")
    if result is None:
        return _reply(f"{LABEL}\n\nSearching the project for `{pattern}`.\n", [("grep", {"pattern": re.escape(pattern), "ignore_case": True})])
    notes = "".join(f"\n\n{line.strip('[]')}." for line in result.splitlines() if line.startswith("[") and "not searched" in line)
    if result.startswith("no matches"):
        return _reply(f"Nothing in the project matches `{pattern}`.{notes}")
    if _failed(result) or "outside the project" in result.splitlines()[0]:
        return _reply(f"I could not search: {result}")
    hits = [line for line in result.splitlines() if not line.startswith("[")]
    files = sorted({line.split(":", 1)[0] for line in hits})
    return _reply(f"`{pattern}` occurs {len(hits)} time(s) in {len(files)} file(s): "
                  + ", ".join(f"`{f}`" for f in files[:10]) + "." + notes)


def answer_run(view: TurnView, command: str) -> OfflineReply:
    result = view.result_of("bash")
    if result is None:
        return _reply(f"{LABEL}\n\nRunning `{command}` (this asks for your permission).\n", [("bash", {"command": command})])
    if _failed(result):
        return _reply(f"I did not run `{command}`: {result}")
    head, _, output = result.partition("\n")
    return _reply(f"`{command}` finished with {head}.\n\n```\n{output.strip()[-1500:]}\n```\n")


def answer_remember(view: TurnView, fact: str) -> OfflineReply:
    result = view.result_of("memory")
    if result is None:
        return _reply(f"{LABEL}\n\nSaving that to project memory.\n", [("memory", {"op": "append", "text": fact.strip()})])
    return _reply(f"Done: {result}." if not _failed(result) else f"Memory refused it: {result}")


def answer_task(view: TurnView, title: str) -> OfflineReply:
    created = view.result_of("task", op="create")
    if created is None:
        return _reply(f"{LABEL}\n\nAdding a task.\n", [("task", {"op": "create", "title": title.strip()})])
    listed = view.result_of("task", op="list")
    if listed is None:
        return _reply("", [("task", {"op": "list"})])
    return _reply(f"{created}. The session's tasks now:\n\n```\n{listed}\n```\n")


def answer_edit(view: TurnView, old: str, new: str, path: str) -> OfflineReply:
    result = view.result_of("edit_file")
    if result is None:
        return _reply(f"{LABEL}\n\nEditing `{path}`.\n", [("edit_file", {"path": path, "old_text": old, "new_text": new})])
    if result.startswith("edited"):
        return _reply(f"Done: {result.splitlines()[0]}.")
    return _reply(f"The edit did not happen: {result}")


TOUR_STEPS = {"start": ("started", "[in_progress"), "progress": ("progress log written", "wrote "), "done": ("done", "[done")}


def _step_state(op: str, result: str | None) -> str:
    """How one task step of the tour went, read from the tool's real result."""
    label, success = TOUR_STEPS[op]
    if result is None:
        return f"not {label}"
    return f"{label} ok" if success in result else f"{op} failed ({result.splitlines()[0][:100]})"


def answer_demo(view: TurnView) -> OfflineReply:
    """The guided tour: a task, a listing, a command behind a permission ask, a memory note, a summary."""
    created = view.result_of("task", op="create")
    if created is None:
        return _reply(
            f"{LABEL}\n\nHello! I'm the offline demo agent. I can't understand free text, but I can show you how the "
            "agent works: I'll plan with the task tool, look around with `list_dir`, ask before running a command, "
            "and write what I learn to memory.\n",
            [("task", {"op": "create", "title": DEMO_TASK})],
        )
    found = re.search(r"\b(T\d+(?:\.\d+)*)\b", created)
    task_id = found.group(1) if found else "T1"
    listing = view.result_of("list_dir")
    if listing is None:
        return _reply(f"Created **{task_id}**. Starting it and looking at the project root.\n",
                      [("task", {"op": "start", "id": task_id}), ("list_dir", {"path": "."})])
    counted = view.result_of("bash")
    if counted is None:
        return _reply(
            f"{describe_listing(listing)}\n\nNext I'd like to count the project's files with a shell command; "
            "that needs your permission.\n",
            [("bash", {"command": SIZE_COMMAND})],
        )
    count_match = re.search(r"exit code 0\n\s*(\d+)", counted)
    if count_match:
        count = int(count_match.group(1))
        file_count = f"{count} file{'s' if count != 1 else ''} in all"
    elif _failed(counted):
        file_count = "not counted (the command was not allowed)"
    else:
        file_count = f"not counted (the command said: {counted.splitlines()[0][:120]})"
    noted = view.result_of("memory")
    if noted is None:
        note = f"Offline demo looked at the project: {describe_listing(listing)} The shell count gave {file_count}."
        progress = {
            "op": "progress", "id": task_id,
            "intent": "Show how the agent works: plan with a task, look at the project, run a command, keep memory.",
            "files": f"- `.` (listed with list_dir): {describe_listing(listing)}",
            "commands": f"- `{SIZE_COMMAND}`: {file_count}",
            "outcome": f"Tour finished. {describe_listing(listing)} The project has {file_count}; "
                       "the findings are in this session's notes.",
        }
        return _reply(
            "Writing what I found to this session's notes and the task's progress log, then closing the task.\n",
            [("memory", {"op": "note", "text": note}), ("task", progress),
             ("task", {"op": "done", "id": task_id, "note": "demo tour finished"})],
        )
    task_state = "; ".join(_step_state(op, view.result_of("task", op=op, id=task_id)) for op in ("start", "progress", "done"))
    return _reply(
        f"Summary of the tour:\n\n- **{task_id}** `{DEMO_TASK}`: created; {task_state} (see the task tree).\n"
        f"- Project root: {describe_listing(listing)}\n- Shell: {file_count}.\n- Memory: {noted}.\n\n"
        "Try: *list the files in src*, *read README.md*, *search for TODO*, *run git status*, "
        "*remember that tests use pytest*, or *task: write docs*."
    )


def answer_compose_plan(view: TurnView, goal: str) -> OfflineReply:
    """Compose mode's planning turn: a spec file and a one-task plan (the offline model cannot split a goal)."""
    goal = " ".join(goal.split())[:120]
    written = view.result_of("write_file")
    if written is None:
        spec = (f"# Spec\n\nGoal, as the user gave it: {goal}\n\nDone when: the task below is done and its progress "
                "log says what was found.\n\n_Written by the offline demo model, which cannot design a real spec._\n")
        return _reply(f"{LABEL}\n\nWriting the spec and a one-task plan.\n",
                      [("write_file", {"path": ".mimo/plans/spec.md", "content": spec}), ("task", {"op": "create", "title": goal})])
    created = view.result_of("task", op="create") or "no task created"
    return _reply(f"Spec: `.mimo/plans/spec.md` ({written.splitlines()[0]}). Plan: {created}.")


def answer_compose_task(view: TurnView, task_id: str, title: str) -> OfflineReply:
    """One task of a compose plan: start it, look at the project, write its progress log, mark it done."""
    listing = view.result_of("list_dir")
    if listing is None:
        return _reply(f"Working on **{task_id}**: {title}.\n", [("task", {"op": "start", "id": task_id}), ("list_dir", {"path": "."})])
    if view.result_of("task", op="done", id=task_id) is None:
        progress = {
            "op": "progress", "id": task_id, "intent": title, "files": f"- `.`: {describe_listing(listing)}",
            "commands": "none", "outcome": f"Offline demo: looked at the project ({describe_listing(listing)}). "
                                           "A real model would implement the task here; nothing was changed.",
        }
        return _reply("Writing the progress log and closing the task.\n",
                      [("task", progress), ("task", {"op": "done", "id": task_id})])
    state = _step_state("done", view.result_of("task", op="done", id=task_id))
    return _reply(f"**{task_id}** {title}: {state}. (Offline demo: nothing in the project was changed.)")


def offline_agent(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, params: dict[str, Any]) -> OfflineReply:
    """Decide the next step of the turn from the request and the real tool results in `messages`."""
    view = view_turn(messages, tools)
    request = view.request
    if not view.offered:
        return _reply(f"{LABEL}\n\nNo tools were offered, so I can only say that I received: {request[:200]}")
    if (match := COMPOSE_GOAL.match(request + "\n")) and "task" in view.offered:
        return answer_compose_plan(view, match.group(1))
    if (match := COMPOSE_TASK.match(request + "\n")) and "task" in view.offered:
        return answer_compose_task(view, match.group(1), match.group(2))
    if (match := EDIT.search(request)) and "edit_file" in view.offered:
        return answer_edit(view, match.group(1), match.group(2), match.group(3))
    if (match := REMEMBER.search(request)) and "memory" in view.offered:
        return answer_remember(view, match.group(1))
    if (match := TASK.search(request)) and "task" in view.offered:
        return answer_task(view, match.group(1))
    if (match := RUN.search(request)) and "bash" in view.offered:
        return answer_run(view, (match.group(1) or match.group(2)).strip())
    if (match := READ.search(request)) and "read_file" in view.offered:
        return answer_read(view, match.group(1))
    if (match := SEARCH.search(request)) and "grep" in view.offered and not LIST.search(request):
        return answer_search(view, match.group(1).strip())
    if LIST.search(request) and "list_dir" in view.offered:
        return answer_list(view)
    if GREETING.search(request) or not request:
        return answer_demo(view)
    return _reply(
        f"{LABEL}\n\nI received: \"{request[:200]}\". I'm a rule-driven offline stand-in, so I can't act on free text. "
        "Configure a real model (`mimo --model openai/gpt-4o-mini`, or `[model] default` in `.mimo/config.toml`), "
        "or try: *hello* (a guided tour), *list the files*, *read README.md*, *search for TODO*, *run ls*, "
        "*remember that ...*, *task: ...*."
    )


def register_offline_agent() -> None:
    """Make `offline/agent` available through the model gateway (cheap; no litellm import)."""
    register_offline_model(NAME, offline_agent)
