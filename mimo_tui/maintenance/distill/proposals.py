"""Each repeated workflow packaged in the smallest form that fits: a command, a skill or a subagent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from mimo_tui.maintenance.distill.history import step_of
from mimo_tui.maintenance.distill.mining import STOPWORDS, Workflow

COMMAND, SKILL, SUBAGENT = "command", "skill", "subagent"
# Up to this many distinct steps a prompt template is enough; from SUBAGENT_STEPS on it is a job to hand off.
COMMAND_STEPS = 5
SUBAGENT_STEPS = 6
NAME_WORDS = 3
_NAME_PART = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Proposal:
    """A file distill would add to the memory repo, why, and from which sessions."""

    kind: str
    name: str
    relpath: str
    text: str
    description: str
    times: int
    sessions: tuple[str, ...]
    steps: tuple[str, ...]

    def line(self) -> str:
        where = {COMMAND: f"command /{self.name}", SKILL: f"skill {self.name}", SUBAGENT: f"subagent {self.name}"}[self.kind]
        return (f"{where}  ({self.relpath}): seen {self.times} times in {len(self.sessions)} "
                f"session(s); steps: {' -> '.join(self.steps)}")


def choose_form(workflow: Workflow) -> str:
    """The smallest form: a command when requests differ only in an argument and few steps, a subagent for long
    self-contained jobs, a skill (a procedure the agent loads when it needs it) otherwise."""
    steps = len(workflow.steps)
    if steps >= SUBAGENT_STEPS:
        return SUBAGENT
    if workflow.varying_parts() and steps <= COMMAND_STEPS:
        return COMMAND
    return SKILL


def name_for(workflow: Workflow, taken: set[str]) -> str:
    words = [w for w in workflow.shared_words() if w not in STOPWORDS and _NAME_PART.sub("", w)]
    parts = [_NAME_PART.sub("-", w).strip("-") for w in words[:NAME_WORDS]] or ["workflow"]
    base = "-".join(p for p in parts if p)[:56].strip("-") or "workflow"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def _template(workflow: Workflow) -> str:
    """The first request with what varies between requests replaced by $ARGUMENTS (once)."""
    varying = set(workflow.varying_parts())
    out: list[str] = []
    for word in re.findall(r"\S+|\s+", workflow.requests[0].text):
        if word.strip() and word.strip(".,:;!?") in varying:
            if not out or out[-1] != "$ARGUMENTS":
                out.append("$ARGUMENTS" + word[len(word.rstrip(".,:;!?")):])
            continue
        out.append(word)
    text = "".join(out)
    return text if "$ARGUMENTS" in text else f"{text.rstrip()} $ARGUMENTS"


def _step_lines(workflow: Workflow) -> list[str]:
    """The steps, with a literal example of each from the first request that took it."""
    examples: dict[str, str] = {}
    for request in workflow.requests:
        for name, arguments in request.calls:
            step = step_of(name, arguments)
            if step not in examples:
                examples[step] = _example(name, arguments)
    return [f"{n}. `{step}`" + (f" — e.g. {examples[step]}" if examples.get(step) else "")
            for n, step in enumerate(workflow.steps, 1)]


def _example(name: str, arguments: str) -> str:
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return ""
    if not isinstance(args, dict):
        return ""
    value = args.get("command") or args.get("path") or args.get("pattern") or ""
    value = str(value).replace("`", "'")
    return f"`{value[:120]}`" if value else ""


def _description(workflow: Workflow, kind: str) -> str:
    first = workflow.requests[0].text.strip().split("\n")[0][:200]
    use = {COMMAND: "Run it as a command with the varying part as its argument",
           SKILL: "Use it when asked to do this again",
           SUBAGENT: "Hand it to this subagent when asked to do this again"}[kind]
    return (f"Repeats a workflow seen {workflow.times} times, e.g. \"{first}\". {use}.").replace("\n", " ")[:1024]


def _yaml_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def render(workflow: Workflow, kind: str, name: str) -> Proposal:
    description = _description(workflow, kind)
    examples = "\n".join(f"- {r.text.strip().splitlines()[0][:200]}" for r in workflow.requests[:5])
    steps = "\n".join(_step_lines(workflow))
    if kind == COMMAND:
        relpath = f"commands/{name}.md"
        text = (f"---\ndescription: {_yaml_text(description)}\n---\n{_template(workflow)}\n\n"
                f"Steps that worked before:\n{steps}\n")
    elif kind == SUBAGENT:
        relpath = f"agents/{name}.md"
        text = (f"---\nname: {name}\ndescription: {_yaml_text(description)}\n---\n# {name}\n\n"
                f"You do one job end to end and report what you did. The job, as it was asked before:\n{examples}\n\n"
                f"Steps that worked before:\n{steps}\n")
    else:
        relpath = f"skills/{name}/SKILL.md"
        text = (f"---\nname: {name}\ndescription: {_yaml_text(description)}\n---\n# {name}\n\n"
                f"When to use: requests like these (seen {workflow.times} times):\n{examples}\n\n"
                f"Steps that worked before:\n{steps}\n")
    return Proposal(kind, name, relpath, text, description, workflow.times,
                    tuple(sorted(workflow.sessions)), workflow.steps)
