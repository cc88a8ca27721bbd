"""Tables (Programs, Signals, Events, Privileges) whose fixed-width columns fit the terminal.
Where the full widths would leave the last column (the command, the outcome, the detail) too
little room, as in an 80-column terminal, the columns take their narrow widths, and those
whose narrow width is 0 are left out; the rows are drawn again when that changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from denet_tui.widgets.row_table import RowTable

Column = tuple[str, str, int | None]  # key, title, width (None: the last, which takes the rest)


def fixed_width(columns: Sequence[Column], padding: int = 2) -> int:
    """Cells taken by the columns but the last (flexible) one, with each cell's ``padding``."""
    return sum(w or 0 for _k, _t, w in columns) + padding * len(columns)


def narrowed(columns: Sequence[Column], narrow: Mapping[str, int]) -> tuple[Column, ...]:
    """The columns at their ``narrow`` widths (0: left out); the others as they are."""
    return tuple(
        (key, title, narrow.get(key, width))
        for key, title, width in columns
        if narrow.get(key) != 0
    )


def fitted(
    columns: Sequence[Column],
    steps: Sequence[Mapping[str, int]],
    width: int,
    room: int,
    padding: int = 2,
) -> tuple[Column, ...]:
    """The columns to show in ``width`` cells: the full ones if they leave the last column
    ``room`` cells, else narrowed by as few of ``steps`` (each narrower than the one before,
    taken together) as do; all of them if none does. ``padding``: cells around each cell."""
    shown, narrow = tuple(columns), {}
    for step in steps:
        if width - fixed_width(shown, padding) >= room:
            break
        narrow |= step
        shown = narrowed(columns, narrow)
    return shown


def show_columns(
    table: DataTable, shown: tuple[Column, ...], columns: tuple[Column, ...]
) -> tuple[Column, ...]:
    """Give ``table`` (which has ``shown``) ``columns``; its rows go with the old ones if they
    change. Returns ``columns``."""
    if columns != shown:
        table.clear(columns=True)
        for key, title, width in columns:
            table.add_column(title, key=key, width=width)
    return columns


class FittedTable(RowTable):
    """A table whose columns fit its width (``fitted``): its ``columns`` (the last one flexible),
    the ``steps`` that narrow them, and the ``room`` the last one keeps. ``fill`` takes the
    rows' cells in ``columns`` order. ``cut_last``: the last column ends at the table's edge,
    a longer cell cut with "…" (where the whole of it is shown elsewhere: else the table is as
    wide as its longest cell, and scrolls sideways)."""

    def __init__(
        self,
        columns: tuple[Column, ...],
        steps: Sequence[Mapping[str, int]],
        room: int,
        *,
        cut_last: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.columns_full, self._steps, self._room = columns, steps, room
        self._cut_last = cut_last
        self._shown: tuple[Column, ...] = ()
        self._cells: list[list[Text]] = []
        self._follow = False
        self._use(columns)

    def _use(self, columns: tuple[Column, ...]) -> None:
        self._shown = show_columns(self, self._shown, columns)

    def _columns_now(self) -> tuple[Column, ...] | None:
        """The columns for the table's width now (None while it has no size yet)."""
        width = self.size.width - self.styles.scrollbar_size_vertical
        if width <= 0:
            return None
        shown = fitted(self.columns_full, self._steps, width, self._room)
        if self._cut_last:
            key, title, _w = shown[-1]
            rest = width - fixed_width(shown[:-1]) - 2  # (2: its own padding)
            shown = (*shown[:-1], (key, title, max(rest, len(title))))
        return shown

    def fill(self, rows: Iterable[list[Text]], follow: bool = True) -> None:
        """Replace the rows (each its cells in ``columns`` order). ``follow`` (a log, newest
        last): a cursor on the last row stays on the last row, as `tail -f` does; one elsewhere
        stays where it was."""
        self._cells, self._follow = list(rows), follow
        self._refill()

    def _refill(self) -> None:
        """The rows again, in the columns for the table's width now (a table in a hidden tab
        is told of no resize), the cursor where it was (on the last row, if it was there and
        the table follows)."""
        row = self.cursor_row
        at_end = self._follow and row >= self.row_count - 1
        columns = self._columns_now()
        if columns is not None:
            self._use(columns)
        shown = {key for key, _t, _w in self._shown}
        keep = [i for i, (key, _t, _w) in enumerate(self.columns_full) if key in shown]
        self.clear()
        for cells in self._cells:
            for cell in cells:  # a cut cell ends in "…" (a cut command read as whole)
                cell.no_wrap, cell.overflow = True, "ellipsis"
            self.add_row(*(cells[i] for i in keep))
        if self.row_count:
            self.move_cursor(row=self.row_count - 1 if at_end else min(row, self.row_count - 1))

    def _refit(self) -> None:
        if self._columns_now() not in (None, self._shown):
            self._refill()

    def on_resize(self) -> None:
        self._refit()

    def on_show(self) -> None:
        self._refit()
