"""The footer of the workbench: Textual's Footer, drawn with its keys as early as it can be, recomposed only on change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.compose import compose
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class WorkbenchFooter(Footer):
    """Lists the active key bindings; `on_keys_drawn` is called once, after the first frame that shows them.

    Textual's Footer composes its keys only when the screen first publishes its bindings, which comes after
    the first paint, and then once per bindings change (three at start-up, ~15 ms each here): the keys came
    two frames after the first paint. Here the app calls `show_keys_now` from its on_mount, so the keys are
    in the first paint, and later changes recompose once per change of the keys shown.
    (textual is pinned: `_context` and `_reactive_connect` are its, used as its own Footer uses them.)
    """

    def __init__(self, on_keys_drawn: Callable[[], Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_keys_drawn = on_keys_drawn
        self._shown: tuple[Any, ...] | None = None
        self._pending = False

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget._reactive_connect:
                # Footer binds each key's `compact` to its own (the palette key excepted): the key's style is then
                # worked out three times (default, bound value, again) when it mounts. Set the value once instead.
                widget._reactive_connect = None
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def show_keys_now(self) -> None:
        """Give the keyboard to the app's AUTO_FOCUS widget and mount the keys now, not one frame later.

        Called from the app's on_mount, inside the batch Textual paints the first frame after: the keys are in it.
        The mount is not awaited (the app's messages wait on on_mount); the keys mount before that paint.
        """
        screen = self.screen
        selector = self.app.AUTO_FOCUS if screen.AUTO_FOCUS is None else screen.AUTO_FOCUS
        if selector and screen.focused is None:
            for widget in screen.query(selector):
                if widget.focusable:
                    screen.set_focus(widget)
                    break
        if self._shown is not None or self.children:
            return
        self._bindings_ready = True
        self._shown = self._keys()
        with self._context():  # Footer's compose binds data to the active node: that must be this footer
            keys = compose(self)
        self.mount_all(keys)
        if self._on_keys_drawn is not None:
            callback, self._on_keys_drawn = self._on_keys_drawn, None
            self.call_after_refresh(callback)

    def watch_compact(self, _compact: bool) -> None:
        if self.is_mounted:  # the keys took the old value at compose
            self.call_later(self._recompose_if_changed)

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_later(self._recompose_if_changed)

    def _keys(self) -> tuple[Any, ...]:
        """What the footer would draw now: each shown binding, its key as displayed, and whether it is enabled."""
        app = self.app
        keys = tuple((binding.key, app.get_key_display(binding), binding.description, binding.action, binding.group,
                      binding.show, enabled, tooltip)
                     for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values())
        return keys, self.show_command_palette, self.compact

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown:
            return
        self._shown = keys
        await self.recompose()
        if self.children and self._on_keys_drawn is not None:
            callback, self._on_keys_drawn = self._on_keys_drawn, None
            self.call_after_refresh(callback)
