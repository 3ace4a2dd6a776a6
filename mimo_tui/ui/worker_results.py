"""Background work's two ways back to the user: a thread worker's result handed to a widget on the app's thread,
and a worker's unexpected failure shown as a notification (Textual tells only the widget that ran the worker)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.css.query import NoMatches
from textual.widget import Widget
from textual.worker import Worker, WorkerState


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


def show_worker_failure(app: App[Any], worker: Worker[Any]) -> None:
    """Tell the user a background job failed, naming the job and the error; the workbench goes on."""
    error = worker.error
    app.notify(f"{type(error).__name__}: {error}", title=f"{worker.name or 'background work'} failed",
               severity="error", timeout=20)


class ShowsWorkerFailures:
    """Mixed into every widget that runs `@work`: a worker that fails unexpectedly is shown, never lost.

    Failures a worker expects (a refused write, a conflict) it reports itself, as a notification with advice.
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            show_worker_failure(event.worker.node.app, event.worker)
