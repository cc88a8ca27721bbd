"""``/``: a one-line filter of the process tree by name, command line or pid."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label

from denet_tui.messages import FilterChanged


class FilterBar(Horizontal):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter"),
    ]

    def compose(self) -> ComposeResult:
        yield Label("filter ", id="filter-label")
        yield Input(placeholder="name, command line or pid  (enter: keep, esc: clear)")

    def open(self) -> None:
        self.display = True
        # Focused now, not after the keys already queued (``focus()`` waits its turn).
        self.screen.set_focus(self.query_one(Input))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.display = bool(event.value)
        self.post_message(FilterChanged(event.value, closed=True))

    def action_clear_filter(self) -> None:
        field = self.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = ""
        self.display = False
        self.post_message(FilterChanged("", closed=True))
