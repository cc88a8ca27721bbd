"""A table refilled with new rows keeps its cursor where the user left it, on the last row if
it was there (a log follows the newest), also when the columns change with the width."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from denet_tui.widgets.fitted_log import FittedTable
from denet_tui.widgets.signals_table import COLUMNS, NARROW, ROOM


def rows(n: int) -> list[list[Text]]:
    return [[Text(str(i)) for _ in COLUMNS] for i in range(n)]


class OneTable(App[None]):
    def compose(self) -> ComposeResult:
        yield FittedTable(COLUMNS, NARROW, ROOM)


async def test_the_cursor_stays_where_the_user_left_it() -> None:
    app = OneTable()
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one(FittedTable)
        table.fill(rows(50))
        await pilot.pause()
        assert table.cursor_row == 49  # a log opens on its newest row
        table.move_cursor(row=10)
        table.fill(rows(60))
        await pilot.pause()
        assert table.cursor_row == 10
        await pilot.resize_terminal(80, 30)  # narrower columns: the rows are drawn again
        await pilot.pause()
        assert table.cursor_row == 10
        table.move_cursor(row=59)
        table.fill(rows(70))
        await pilot.pause()
        assert table.cursor_row == 69
