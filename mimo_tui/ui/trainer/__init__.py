"""Widgets and readers of the trainer pane."""
