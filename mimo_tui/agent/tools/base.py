"""What every agent tool is: a spec the model sees, a permission subject, and an async run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from mimo_tui.agent.off_loop import finish_in_thread


@dataclass(frozen=True)
class ToolSpec:
    """The name, description and JSON-schema parameters offered to the model."""

    name: str
    description: str
    parameters: dict[str, Any]

    def as_openai(self) -> dict[str, Any]:
        return {"type": "function", "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns to the model; `is_error` results are still shown to the model so it can act."""

    content: str
    is_error: bool = False
    summary: str = ""
    write_failed: bool = False  # a write the call asked for was not made (the store refused it or could not commit)


@dataclass
class ToolContext:
    """What a running tool may use: the project root, session and the services behind it."""

    project_root: Path
    session_id: str
    mode: str = "build"
    services: dict[str, Any] = field(default_factory=dict)


class Tool(Protocol):
    """An agent tool."""

    spec: ToolSpec
    read_only: bool

    def permission_subject(self, args: dict[str, Any]) -> str:
        """The string permission globs match against: a path, a command, or '' for none."""
        ...

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult: ...


class BlockingTool:
    """A tool whose work is file, database or git I/O: `call` runs in a worker thread, never on the event loop.

    When the turn is cancelled meanwhile, a read is dropped at once; a write is let finish and reported,
    so what the transcript says it did matches the disk.
    """

    read_only: bool = True

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise NotImplementedError

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        if self.read_only:
            return await asyncio.to_thread(self.call, args, ctx)
        return await finish_in_thread(lambda: self.call(args, ctx))
