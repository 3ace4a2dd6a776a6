"""Widgets of the task pane."""
