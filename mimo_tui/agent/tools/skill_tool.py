"""The skill tool: load a skill's body by name from the catalogue."""

from __future__ import annotations

from typing import Any

from mimo_tui.agent.tools.arguments import schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec
from mimo_tui.skills import FrontMatterError, SkillCatalogue


class SkillTool(BlockingTool):
    """Read the instructions of a skill listed in the system prompt."""

    read_only = True
    spec = ToolSpec(
        "skill",
        "Load the full instructions of a skill by its name (skills are listed in the system prompt).",
        schema({"name": {"type": "string"}}, ["name"]),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        name = args.get("name")
        return name if isinstance(name, str) else ""

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        catalogue: SkillCatalogue | None = ctx.services.get("skills")
        name = text_arg(args, "name").strip()
        skill = catalogue.get(name) if catalogue else None
        if skill is None:
            known = ", ".join(catalogue.names()) if catalogue and catalogue.skills else "none"
            return ToolResult(f"no skill named {name!r} (skills: {known})", is_error=True)
        try:
            body = skill.body()
        except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
            return ToolResult(f"skill {name} cannot be loaded: {exc}", is_error=True)
        return ToolResult(f"# Skill: {skill.name}\n(from {skill.path})\n\n{body}", summary=f"loaded {name}")
