"""The history tool: search the raw transcripts of past sessions."""

from __future__ import annotations

from typing import Any, Protocol

from mimo_tui.agent.tools.arguments import int_arg, schema, text_arg
from mimo_tui.agent.tools.base import BlockingTool, ToolContext, ToolResult, ToolSpec


class HistorySearch(Protocol):
    """Finds past conversation text; returns printable hit lines (the memory layer's HistoryIndex can fill this role)."""

    def search(self, query: str, limit: int, exclude_session: str | None) -> list[str]: ...


class MessageTableSearch:
    """History search straight over the stored messages (word match, newest first)."""

    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions

    def search(self, query: str, limit: int, exclude_session: str | None) -> list[str]:
        hits = self.sessions.search_messages(query, limit=limit, exclude_session=exclude_session)
        return [f"[{m.session_id} turn {m.turn} {m.role}] {m.content.strip()[:400]}" for m in hits]


class HistoryTool(BlockingTool):
    """Search what was said and done in earlier sessions."""

    read_only = True
    spec = ToolSpec(
        "history",
        "Search the raw history of past sessions (user and assistant text, tool inputs and outputs) when memory has nothing.",
        schema({"query": {"type": "string"}, "limit": {"type": "integer"}}, ["query"]),
    )

    def permission_subject(self, args: dict[str, Any]) -> str:
        query = args.get("query")
        return query if isinstance(query, str) else ""

    def call(self, args: dict[str, Any], ctx: ToolContext) -> ToolResult:
        history: HistorySearch | None = ctx.services.get("history")
        if history is None:
            return ToolResult("history search is not available", is_error=True)
        query = text_arg(args, "query")
        hits = history.search(query, int_arg(args, "limit", 10) or 10, ctx.session_id)
        if not hits:
            return ToolResult(f"no past session mentions {query!r}", summary="0 hits")
        return ToolResult("\n".join(hits), summary=f"{len(hits)} hit(s)")


class HistoryIndexSearch:
    """History search through the memory layer's FTS index of past sessions (`HistoryIndex`)."""

    def __init__(self, index: Any) -> None:
        self.index = index

    def search(self, query: str, limit: int, exclude_session: str | None) -> list[str]:
        hits = [hit for hit in self.index.search(query, limit=limit * 2) if hit.session_id != exclude_session]
        return [f"[{hit.session_id} {hit.role} {hit.kind}] {hit.marked()}" for hit in hits[:limit]]
