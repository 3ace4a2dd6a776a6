"""Templates of the memory files."""

from __future__ import annotations

PROJECT_MEMORY = """# Project memory

_Durable knowledge about this project, kept by you, the agent and dream. Entries are claims to verify, not facts._

## Project context

## Rules

## Architecture decisions

## Discovered durable knowledge
"""
