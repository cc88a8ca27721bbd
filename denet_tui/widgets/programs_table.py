"""The Programs tab: every exec of the tree in order — what ran, with which arguments, how it
ended (the exec family; like execsnoop, for the watched tree only). Failed execs are marked
with the error; a program's exit status and duration appear once its process has ended."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from denet_tui.event_filter import EventFilter
from denet_tui.programs import ProgramRow, ProgramsLog, command_text
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, FittedTable
from denet_tui.widgets.format import NA, clock_ms, counted, fmt_exit, fmt_seconds
from denet_tui.widgets.redraw import set_border_title

COLUMNS: tuple[Column, ...] = (
    ("time", "TIME", 12),
    ("pid", "PID", 7),
    ("ppid", "PPID", 7),
    ("result", "RESULT", 8),
    ("exit", "EXIT", 11),
    ("duration", "DURATION", 9),
    ("argv", "COMMAND (argv)", None),
)
# In a narrow terminal (80 columns): the parent left out (the Processes tab has it).
NARROW = ({"ppid": 0, "exit": 8, "duration": 8},)
ROOM = 20  # cells of the command


def row_cells(row: ProgramRow) -> list[Text]:
    """One exec as cells; kernel strings shown as harmless text (control characters made
    visible, markup not interpreted)."""
    e = row.event
    when = clock_ms(e.ts)
    failed = e.error is not None
    args = visible(command_text(e))
    style = "red" if failed else ("" if row.end_ts is not None else "bold")
    exit_code = "" if failed else fmt_exit(row.exit_code, row.killed_by_signal)
    cells = [
        Text(when, style="dim"),
        Text(str(e.pid), justify="right"),
        Text(str(e.ppid or NA), justify="right"),
        Text(e.error or "ok", style="red" if failed else "green"),
        Text(exit_code, justify="right", style="red" if row.exit_code not in (None, 0) else ""),
        Text("" if failed else fmt_seconds(row.duration_s), justify="right"),
        Text(args, style=style, no_wrap=True, overflow="ellipsis"),
    ]
    return cells


def longest_first(rows: Iterable[ProgramRow]) -> list[ProgramRow]:
    """The execs by how long their process ran, longest first ("which compile was slowest?");
    those still running or failed last, in order."""
    return sorted(rows, key=lambda r: -r.duration_s if r.duration_s is not None else 1.0)


SORTS = {"time": "in order", "duration": "longest first"}


class ProgramsTable(FittedTable):
    """The log's rows, newest last (``s``: longest first); refilled when the log changed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, NARROW, ROOM, cut_last=True, id=id)  # (whole below it)
        self._version: tuple | None = None
        self.sort_key = "time"
        self.programs: list[ProgramRow] = []  # as shown, in order (DataTable has .rows)
        self._shown_from: tuple[ProgramsLog, EventFilter, bool] | None = None

    def show(self, log: ProgramsLog, flt: EventFilter, sampled: bool = False) -> None:
        """``sampled``: the programs the /proc tree scan saw (execs between readings and failed
        ones are not seen), not every exec."""
        if (log.version, flt, sampled, self.sort_key) == self._version:
            return
        self._version = (log.version, flt, sampled, self.sort_key)
        self._shown_from = (log, flt, sampled)
        rows = [r for r in log.rows if flt.matches(r.event)] if flt.active else list(log.rows)
        by_time = self.sort_key == "time"
        self.programs = rows if by_time else longest_first(rows)
        self.fill(map(row_cells, self.programs), follow=by_time)
        failed = sum(1 for r in rows if r.event.error is not None)
        if sampled:
            title = f"programs seen · {len(rows):,} · sampled by /proc: short-lived ones missed"
        else:
            title = f"programs run · {counted(len(rows), 'exec')}, {failed:,} failed"
        title += f" · {SORTS[self.sort_key]} (s)"
        if flt.active:
            title += f" · {flt.describe()} (of {len(log.rows):,})"
        if log.dropped:
            title += f" · {log.dropped:,} older ones let go"
        set_border_title(self, Text(title))

    def highlighted(self) -> ProgramRow | None:
        row = self.cursor_row
        return self.programs[row] if 0 <= row < len(self.programs) and self.row_count else None

    def action_cycle_sort(self) -> None:
        keys = list(SORTS)
        self.sort_key = keys[(keys.index(self.sort_key) + 1) % len(keys)]
        if self._shown_from is not None:
            self.show(*self._shown_from)
            self.move_cursor(row=0 if self.sort_key != "time" else self.row_count - 1)


class ProgramDetail(Static):
    """The whole command line of the exec under the cursor (the table cuts long ones)."""

    def show(self, row: ProgramRow | None) -> None:
        text = Text(no_wrap=False)
        if row is not None:
            text.append(f"{row.event.pid} ", style="dim")
            text.append(visible(command_text(row.event)))
        self.update(text)


class ProgramsView(Vertical):
    """The Programs tab: the table, and below it the command under the cursor, whole."""

    def compose(self) -> ComposeResult:
        yield ProgramsTable(id="programs-table")
        yield ProgramDetail(id="program-detail")

    def show(self, log: ProgramsLog, flt: EventFilter, sampled: bool = False) -> None:
        table = self.query_one(ProgramsTable)
        table.show(log, flt, sampled)
        if not table.row_count:  # (no row to highlight: none says the pane is stale)
            self.query_one(ProgramDetail).show(None)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.query_one(ProgramDetail).show(self.query_one(ProgramsTable).highlighted())
