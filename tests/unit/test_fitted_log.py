"""The tables' columns fit the terminal: in 80 columns the last one (the command, the outcome,
the detail, the arguments) keeps some room; in a wide one every column is at its full width."""

import pytest

from denet_tui.widgets import events_table, privileges_view, programs_table, signals_table
from denet_tui.widgets.fitted_log import Column, fitted, fixed_width, narrowed

TABLES = {
    "programs": (programs_table.COLUMNS, programs_table.NARROW, programs_table.ROOM),
    "signals": (signals_table.COLUMNS, signals_table.NARROW, signals_table.ROOM),
    "events": (events_table.COLUMNS, events_table.NARROW, events_table.ROOM),
    "capabilities": (
        privileges_view.CAP_COLUMNS,
        privileges_view.CAP_NARROW,
        privileges_view.CAP_ROOM,
    ),
    "privileged calls": (
        privileges_view.CALL_COLUMNS,
        privileges_view.CALL_NARROW,
        privileges_view.CALL_ROOM,
    ),
}


@pytest.mark.parametrize("name", TABLES)
def test_in_80_columns_the_last_column_keeps_some_room(name: str) -> None:
    columns, narrow, room = TABLES[name]
    width = 80 - 2 - 2  # the tab's border and the vertical scrollbar
    shown = fitted(columns, narrow, width, room)
    assert shown != columns  # the full widths leave it too little
    assert width - fixed_width(shown) >= min(room, 15)  # a time, or a command's start
    assert shown[-1] == columns[-1]


@pytest.mark.parametrize("name", TABLES)
def test_in_a_wide_terminal_every_column_is_whole(name: str) -> None:
    columns, narrow, room = TABLES[name]
    assert fitted(columns, narrow, 200, room) == columns


def test_at_120_columns_an_events_result_is_whole() -> None:
    # (A trial read "default: fatal SIG" where the table had room for the whole of it.)
    width = 120 - 2 - 2
    shown = fitted(events_table.COLUMNS, events_table.NARROW, width, events_table.ROOM)
    assert ("result", "RESULT", 22) in shown
    assert width - fixed_width(shown) >= events_table.ROOM


def test_at_80_columns_a_signals_outcome_is_whole() -> None:
    # (A trial read "default: fatal SIG": which signal ended the process was cut.)
    width = 80 - 2 - 2
    shown = fitted(signals_table.COLUMNS, signals_table.NARROW, width, signals_table.ROOM)
    assert width - fixed_width(shown) >= signals_table.ROOM


def test_a_narrow_width_of_zero_leaves_the_column_out() -> None:
    columns: tuple[Column, ...] = (("a", "A", 10), ("b", "B", 10), ("c", "C", None))
    assert narrowed(columns, {"a": 0, "b": 4}) == (("b", "B", 4), ("c", "C", None))


def test_each_step_narrows_further_only_if_needed() -> None:
    columns: tuple[Column, ...] = (("a", "A", 10), ("b", "B", 10), ("c", "C", None))
    steps = ({"a": 5}, {"b": 0})
    assert fitted(columns, steps, 40, 10) == columns  # 26 taken, 14 left
    assert fitted(columns, steps, 32, 10) == (("a", "A", 5), ("b", "B", 10), ("c", "C", None))
    assert fitted(columns, steps, 30, 10) == (("a", "A", 5), ("c", "C", None))
