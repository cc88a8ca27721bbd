"""Column titles above the process tree (the tree scrolls, its header does not)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from denet_tui.model import CollectorInfo
from denet_tui.widgets.process_rows import columns_for, header_text


class ProcessHeader(Widget):
    sort_key: reactive[str] = reactive("pid")
    collector: reactive[CollectorInfo | None] = reactive(None)

    def render(self) -> Text:
        # The tree below keeps a one-cell scrollbar gutter; stop short of it so columns line up.
        width = self.size.width - 1
        exact = self.collector is not None and self.collector.has("syscalls", "exact")
        return header_text(width, self.sort_key, columns_for(width, exact=exact), exact=exact)
