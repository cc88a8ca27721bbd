"""The Programs tab: every exec of the tree in order — what ran, with which arguments, how it
ended (the exec family; like execsnoop, for the watched tree only). Failed execs are marked
with the error; a program's exit status and duration appear once its process has ended."""

from __future__ import annotations

from rich.text import Text

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


class ProgramsTable(FittedTable):
    """The log's rows, newest last; refilled when the log changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, NARROW, ROOM, id=id)
        self._version: tuple | None = None

    def show(self, log: ProgramsLog, flt: EventFilter, sampled: bool = False) -> None:
        """``sampled``: the programs the /proc tree scan saw (execs between readings and failed
        ones are not seen), not every exec."""
        if (log.version, flt, sampled) == self._version:
            return
        self._version = (log.version, flt, sampled)
        rows = [r for r in log.rows if flt.matches(r.event)] if flt.active else log.rows
        self.fill(map(row_cells, rows))
        failed = sum(1 for r in rows if r.event.error is not None)
        if sampled:
            title = f"programs seen · {len(rows):,} · sampled by /proc: short-lived ones missed"
        else:
            title = f"programs run · {counted(len(rows), 'exec')}, {failed:,} failed"
        if flt.active:
            title += f" · {flt.describe()} (of {len(log.rows):,})"
        if log.dropped:
            title += f" · {log.dropped:,} older ones let go"
        set_border_title(self, Text(title))
