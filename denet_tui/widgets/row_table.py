"""``RowTable``: the screen's tables, whose cursor moves by rows."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class RowTable(DataTable[Text]):
    """Home and End go to the first and last row, as in less or htop (DataTable's scroll the
    table sideways to its edges: beside a long last column, such as the Programs tab's command
    lines, End left nothing on the screen)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]

    def on_resize(self) -> None:
        # Made shorter (the Programs tab's command pane grows with a long command under the
        # cursor), it keeps the cursor's row on the screen: End there showed a blank row.
        if self.show_cursor and self.row_count:
            self.move_cursor(row=self.cursor_row)
