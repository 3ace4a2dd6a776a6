"""Hands a thread worker's result back to a widget on the app's thread, unless the widget is going away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.css.query import NoMatches
from textual.widget import Widget


def deliver(widget: Widget, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Call `callback(*args, **kwargs)` on the app's thread; dropped quietly when the widget left the screen."""

    def guarded() -> None:
        if not widget.is_attached:
            return
        try:
            callback(*args, **kwargs)
        except NoMatches:
            if not (widget._closing or widget.app._closing):
                raise  # a real missing widget, not a pane being torn down

    try:
        widget.app.call_from_thread(guarded)
    except RuntimeError:
        pass  # the app has stopped; nobody is left to show the result to
