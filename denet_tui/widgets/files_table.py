"""The Files tab: every path the tree opened, removed, created, renamed or truncated — how
often, how often it failed and why, by how many processes, for reading, writing or creating,
first and last time (the files family, counted in the kernel). ``f`` shows only paths with
failures (the missing config file); ``s`` sorts by calls, failures or last time. Paths are the
programs' own text: shown as harmless text. A relative path is shown joined to the working
directory it was opened in when that is known, else as passed and marked so."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from denet_tui.event_filter import EVERYTHING, EventFilter
from denet_tui.event_logs import LatestRows
from denet_tui.model import FileStat
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, fitted, fixed_width
from denet_tui.widgets.format import clock_ms, counted, fmt_int, keep_tail
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.row_table import RowTable

COLUMNS: tuple[Column, ...] = (
    ("op", "CALL", 9),
    ("calls", "CALLS", 7),
    ("failures", "FAILED", 7),
    ("error", "ERROR", 8),
    ("processes", "PROCS", 6),
    ("by", "LAST BY", 16),
    ("modes", "MODE", 5),
    ("first", "FIRST", 12),
    ("last", "LAST", 12),
    ("path", "PATH", None),
)
SORTS: dict[str, tuple[str, Callable[[FileStat], tuple]]] = {
    "calls": ("calls", lambda r: (-r.calls, r.path, r.op)),
    "failures": ("failures", lambda r: (-r.failures, -r.calls, r.path, r.op)),
    "last": ("last call", lambda r: (-r.last_ts, r.path, r.op)),
}
SORT_KEYS = tuple(SORTS)
OP_LABELS = {"rename_from": "rename ⇢", "rename_to": "⇢ rename"}  # from this name, to it
UNJOINED = {
    "cwd unknown": " (relative: cwd unknown)",
    "dirfd": " (relative to a directory fd)",
    "cut": " (relative, its start cut)",
}
JOINED = " (relative)"  # the same file named absolute is another row
MAX_SHOWN = 2000  # rows drawn (the export and the JSON have them all)


# Left out, step by step, where the paths would have too little room: the times, the latest
# call's process, the count of processes, the modes (at 80 columns the path kept 21 cells:
# three locales' gcc-12.mo read the same).
NARROW: tuple[dict[str, int], ...] = (
    {"first": 0, "last": 0},
    {"by": 0},
    {"processes": 0},
    {"modes": 0},
)
MIN_PATH = 30  # cells of path below which a step is taken


def narrow_steps(sort_key: str) -> tuple[dict[str, int], ...]:
    """NARROW, but the column the rows are sorted by stays (sorted by the last call, the rows'
    order had no time to show for it below 120 columns)."""
    return tuple(step for s in NARROW if (step := {k: w for k, w in s.items() if k != sort_key}))


def file_cells(r: FileStat, path_width: int | None = None) -> dict[str, Text]:
    """A row's cells by column; the path cut at its start to ``path_width`` cells if given."""
    failed = "red" if r.failures else ""
    path = Text(
        visible(r.path) + (" (cut)" if r.path_cut else ""),
        style="red" if r.failures == r.calls else "",
        no_wrap=True,
    )
    path.append(JOINED if r.joined else UNJOINED.get(r.relative or "", ""), style="dim")
    if path_width:
        path = keep_tail(path, path_width)
    by = Text(no_wrap=True, overflow="ellipsis")
    if r.last_pid is not None:
        by.append(visible(r.last_name or "?"))
        by.append(f" {r.last_pid}", style="dim")
    return {
        "op": Text(OP_LABELS.get(r.op, r.op), style="" if r.op == "open" else "bold"),
        "calls": Text(fmt_int(r.calls), justify="right"),
        "failures": Text(fmt_int(r.failures) if r.failures else "", justify="right", style=failed),
        "error": Text(r.error or "", style=failed),
        "processes": Text(fmt_int(r.processes), justify="right"),
        "by": by,
        "modes": Text(r.modes),
        "first": Text(clock_ms(r.first_ts), style="dim"),
        "last": Text(clock_ms(r.last_ts), style="dim"),
        "path": path,
    }


def shown_rows(
    log: LatestRows, sort_key: str, failures_only: bool, flt: EventFilter = EVERYTHING
) -> list[FileStat]:
    rows = [r for r in log.rows.values() if (r.failures or not failures_only) and flt.matches(r)]
    return sorted(rows, key=SORTS[sort_key][1])[:MAX_SHOWN]


class FilesTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("f", "toggle_failures", "Failures only"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_key = "calls"
        self.failures_only = False
        self._log: LatestRows | None = None
        self._flt = EVERYTHING
        self._sampled = False
        self._version: tuple | None = None
        self._columns: tuple[Column, ...] = ()
        self._path_width: int | None = None
        self._set_columns(COLUMNS, None)

    def _set_columns(self, columns: tuple[Column, ...], path_width: int | None) -> None:
        """The columns, the path's as wide as ``path_width`` (None: as its cells)."""
        if (columns, path_width) != (self._columns, self._path_width):
            self.clear(columns=True)
            self._columns, self._path_width = columns, path_width
            for key, title, width in columns:
                self.add_column(title, key=key, width=width or path_width)

    def show(self, log: LatestRows, flt: EventFilter, sampled: bool = False) -> None:
        """``sampled``: the paths the /proc collector found held open, not every call."""
        self._log, self._flt, self._sampled = log, flt, sampled
        if (log.version, flt, sampled) != self._version:
            self._version = (log.version, flt, sampled)
            self._fill()

    def _fill(self) -> None:
        log = self._log
        if log is None:
            return
        self.clear()
        rows = shown_rows(log, self.sort_key, self.failures_only, self._flt)
        # Room as if the vertical scrollbar were shown (whether it is depends on the rows).
        width = max(0, self.size.width - self.styles.scrollbar_size_vertical)
        path_width = None  # not laid out yet
        columns = COLUMNS
        if width:
            columns = fitted(COLUMNS, narrow_steps(self.sort_key), width, MIN_PATH)
            path_width = max(16, width - fixed_width(columns) - 1)  # (the cursor's edge)
        self._set_columns(columns, path_width)
        for r in rows:
            cells = file_cells(r, path_width)
            self.add_row(*(cells[key] for key, _t, _w in columns))
        total = len({key[0] for key in log.rows})
        failing = len({r.path for r in log.rows.values() if r.failures})
        title = f"files · {total:,} paths, {failing:,} with failures"
        if self._sampled:
            title = f"files held open · {total:,} paths · sampled from /proc/PID/fd"
        title += f" · sorted by {SORTS[self.sort_key][0]} (s)"
        title += " · failures only (f)" if self.failures_only else " · f: failures only"
        if self._flt.text:  # a file's figures are the whole tree's: the scope cannot narrow them
            title += f" · filter “{self._flt.text}”: {counted(len(rows), 'row')}"
        if len(rows) == MAX_SHOWN:
            title += f" · first {MAX_SHOWN:,} shown"
        set_border_title(self, Text(title))

    def on_resize(self) -> None:
        self._fill()  # the paths' room changed

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._fill()

    def action_toggle_failures(self) -> None:
        self.failures_only = not self.failures_only
        self._fill()
