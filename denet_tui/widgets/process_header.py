"""Column titles above the process tree (the tree scrolls, its header does not)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from denet_tui.widgets.process_tree import header_text


class ProcessHeader(Widget):
    sort_key: reactive[str] = reactive("pid")
    rate_label: reactive[str] = reactive("sc/s")

    def render(self) -> Text:
        # The tree below keeps a one-cell scrollbar gutter; stop short of it so columns line up.
        return header_text(self.size.width - 1, self.sort_key, self.rate_label)
