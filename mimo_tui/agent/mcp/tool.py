"""An MCP server's tool as an agent Tool named `mcp__<server>__<tool>`: schema checks, the call, the result as text."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from mimo_tui.agent.file_policy import resource_text_for_model
from mimo_tui.agent.mcp.connection import McpCallError, McpConnection, McpToolInfo
from mimo_tui.agent.tools.base import ToolContext, ToolResult, ToolSpec

MAX_NAME = 64  # the longest function name model APIs accept


def tool_name(server: str, tool: str) -> str:
    """The name the model sees: `mcp__<server>__<tool>`, reduced to the characters and length model APIs accept."""
    name = f"mcp__{_safe(server)}__{_safe(tool)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


def schema_problem(schema: Any) -> str | None:
    """Why a tool's input schema cannot be offered to a model, or None when it can."""
    if not isinstance(schema, dict):
        return f"input schema is {type(schema).__name__}, not an object schema"
    if schema.get("type", "object") != "object":
        return f"input schema has type {schema.get('type')!r}; tools take an object"
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path) or "top level"
        return f"input schema is not valid JSON schema ({exc.message} at {where})"
    return None


def argument_problems(schema: dict[str, Any], args: Any, validator: Any = None) -> list[str]:
    """How `args` fails the tool's schema (required keys, types, enums ...); empty when it fits."""
    if not isinstance(args, dict):
        return [f"arguments must be an object, got {type(args).__name__}"]
    if validator is None:
        from jsonschema.validators import validator_for

        validator = validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(args), key=lambda e: list(e.path)):
        where = ".".join(str(part) for part in error.path)
        problems.append(f"{where}: {error.message}" if where else error.message)
    return problems[:10]


class McpTool:
    """One tool of one MCP server, speaking the agent's Tool protocol."""

    def __init__(self, connection: McpConnection, info: McpToolInfo, timeout_s: float) -> None:
        self.connection = connection
        self.info = info
        self.timeout_s = timeout_s
        self.server = connection.name
        self.tool = info.name
        self.read_only = info.read_only
        schema = dict(info.input_schema)
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        description = info.description or f"Tool {info.name} of MCP server {connection.name}."
        self.spec = ToolSpec(tool_name(connection.name, info.name), description, schema)
        self._validator: Any = None

    @property
    def name(self) -> str:
        return self.spec.name

    def permission_subject(self, args: dict[str, Any]) -> str:
        """The full tool name, so permission globs such as `mcp__git__*` match on it."""
        return self.spec.name

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        label = f"MCP tool '{self.tool}' of server '{self.server}'"
        if self._validator is None:
            from jsonschema.validators import validator_for

            self._validator = validator_for(self.spec.parameters)(self.spec.parameters)
        problems = argument_problems(self.spec.parameters, args, self._validator)
        if problems:
            text = f"Arguments for {label} do not match its schema: " + "; ".join(problems)
            return ToolResult(text, is_error=True, summary=f"{self.server}/{self.tool}: bad arguments")
        try:
            result = await self.connection.call_tool(self.tool, args, self.timeout_s)
        except McpCallError as exc:
            return ToolResult(str(exc), is_error=True, summary=f"{self.server}/{self.tool}: {exc}")
        text = render_content(result, lambda uri, body: resource_text_for_model(ctx.project_root, uri, body))
        if result.is_error:
            text = f"{label} reported an error: {text}" if text else f"{label} reported an error"
        first = text.strip().splitlines()[0] if text.strip() else "(no output)"
        return ToolResult(text, is_error=bool(result.is_error), summary=f"{self.server}/{self.tool}: {first[:80]}")


def render_content(result: Any, resource_text: Callable[[str, str], str] | None = None) -> str:
    """A CallToolResult as text: text blocks joined, other content as a short description.

    `resource_text(uri, text)` decides what of an embedded resource's text the model sees (the file policy).
    """
    parts: list[str] = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind in ("image", "audio"):
            parts.append(f"[{block.mime_type}, {_size(_b64_len(block.data))}]")
        elif kind == "resource_link":
            mime = f", {block.mime_type}" if block.mime_type else ""
            parts.append(f"[resource link {block.uri}{mime}]")
        elif kind == "resource":
            resource = block.resource
            mime = f", {resource.mime_type}" if resource.mime_type else ""
            text = getattr(resource, "text", None)
            if text is not None:
                text = resource_text(str(resource.uri), text) if resource_text is not None else text
                parts.append(f"[resource {resource.uri}{mime}]\n{text}")
            else:
                parts.append(f"[resource {resource.uri}{mime}, {_size(_b64_len(resource.blob))}]")
        else:
            parts.append(f"[{kind or type(block).__name__} content]")
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, indent=2, ensure_ascii=False))
    return "\n".join(parts)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name) or "_"


def _b64_len(data: str) -> int:
    try:
        return len(base64.b64decode(data, validate=False))
    except (ValueError, TypeError):
        return len(data) * 3 // 4


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count / (1024 * 1024):.1f} MB"
