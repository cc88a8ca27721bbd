"""``/``: a one-line filter of the process tree by name or command line."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input

from denet_tui.messages import FilterChanged


class FilterBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear_filter", "Clear filter"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter processes by name…  (enter: keep, esc: clear)", id=id)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.display = bool(self.value)
        self.post_message(FilterChanged(self.value, closed=True))

    def action_clear_filter(self) -> None:
        with self.prevent(Input.Changed):
            self.value = ""
        self.display = False
        self.post_message(FilterChanged("", closed=True))
