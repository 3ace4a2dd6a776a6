"""A FastMCP demo server (the SDK's `MCPServer`, FastMCP's name since mcp 2) run by the MCP tests over stdio or HTTP."""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import sys
import zlib
from pathlib import Path

from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import EmbeddedResource, TextResourceContents

server = MCPServer("demo", log_level="WARNING")
# The SDK logs through rich with rich tracebacks, which takes ~0.45 s to draw each failing call's traceback: log
# the same records as plain text to stderr instead.
logging.getLogger().handlers = [logging.StreamHandler(sys.stderr)]


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
async def slow(seconds: float) -> str:
    """Sleep for the given seconds, then answer."""
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@server.tool()
def fail(message: str) -> str:
    """Fail with the given message."""
    raise ToolError(message)


@server.tool()
def explode() -> str:
    """Raise an unexpected exception inside the server."""
    raise ValueError("unexpected failure inside the tool")


@server.tool()
def big(size: int) -> str:
    """Return `size` characters of text."""
    line = "0123456789abcdef" * 4 + "\n"
    return (line * (size // len(line) + 1))[:size]


@server.tool()
def picture() -> Image:
    """Return a small PNG image."""
    return Image(data=_png(64, 64), format="png")


@server.tool()
def crash() -> str:
    """Exit the server process in the middle of the call."""
    os._exit(3)


@server.tool()
def header(name: str, ctx: Context) -> str:
    """Return the value of an HTTP request header (empty over stdio)."""
    return (ctx.headers or {}).get(name.lower(), "")


@server.tool()
async def grow(name: str, ctx: Context) -> str:
    """Add a tool called `name` (it echoes) and tell the client the tool list changed."""
    server.add_tool(echo, name=name, description=f"Echo, added at run time as {name}.")
    await ctx.session.send_tool_list_changed()
    return f"added {name}"


@server.tool()
def file_resource(path: str) -> EmbeddedResource:
    """Return a file (relative to the server's folder) as an embedded resource with its file:// URI."""
    target = Path(path).absolute()
    return EmbeddedResource(type="resource", resource=TextResourceContents(
        uri=target.as_uri(), mime_type="text/plain", text=target.read_text(encoding="utf-8")))


@server.tool()
def broken_schema() -> str:
    """A tool whose advertised input schema is not valid JSON schema."""
    return "never offered"


# A declaration can give the server one more tool through its env (tests of an edited declaration).
if os.environ.get("DEMO_EXTRA_TOOL"):
    server.add_tool(echo, name=os.environ["DEMO_EXTRA_TOOL"], description="Echo, named by DEMO_EXTRA_TOOL.")

server._tool_manager.get_tool("broken_schema").parameters = {"type": "object", "properties": {"x": {"type": 12}}}


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 4 % 256, y * 4 % 256, 128)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    # Usage: demo_server.py [stdio|noisy|http PORT] [TAG]; the tag only marks the process for leak checks.
    mode = sys.argv[1] if len(sys.argv) > 1 else "stdio"
    if mode == "http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        if mode == "noisy":
            print("this line is not JSON-RPC", flush=True)
        server.run()
