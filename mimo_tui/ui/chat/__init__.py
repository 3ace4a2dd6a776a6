"""Widgets of the chat pane, one per file."""
