"""Agent tools."""
