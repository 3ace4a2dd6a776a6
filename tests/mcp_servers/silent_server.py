"""A broken MCP server: reads its requests and never answers `initialize`."""

from __future__ import annotations

import sys

print("silent server started", file=sys.stderr, flush=True)
for _line in sys.stdin:
    pass
