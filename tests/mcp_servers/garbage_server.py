"""A broken MCP server: prints garbage on stdout and never answers."""

from __future__ import annotations

import sys

print("Hello! I am definitely not an MCP server.", flush=True)
for _line in sys.stdin:
    print("garbage in reply to a request", flush=True)
