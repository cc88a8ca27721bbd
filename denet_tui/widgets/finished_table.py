"""The Finished view: every process that ended, by command — "which compile was slowest?".

One row per command (``denet_tui.finished``): how many ran, how many failed (exit status not
0), total and largest CPU time, total and longest wall time, the largest peak RSS, where the rest
of their threads' time went (waiting for a CPU, asleep, in D: totals) and the exit statuses.
``s`` cycles the sort; a figure not known for every process of a row is marked ``≥`` (its total
is a lower bound).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from denet_tui.model import CommandStats, FinishedSummary
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, fitted, show_columns
from denet_tui.widgets.format import counted, fmt_bytes, fmt_int, fmt_seconds
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.row_table import RowTable

# (key, title, width); the command first. The cells have no padding: each width holds a
# space before the next column. The exit statuses follow the failures, as wide as the widest
# (None: "143 SIGTERM×40 0×2" is never cut, nor pushed off a 120-column screen); the figures
# after them scroll if they must.
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("command", "COMMAND", 20),  # (every column whole at 120 columns)
    ("count", "RUNS", 6),
    ("failures", "FAIL", 6),
    ("exits", "EXIT STATUS", None),
    ("cpu_total", "CPU", 9),
    ("cpu_max", "CPU MAX", 9),
    ("wall_total", "WALL", 9),
    ("wall_max", "WALL MAX", 10),
    ("rss_max", "RSS MAX", 9),
    ("wait", "WAIT CPU", 10),
    ("sleep", "ASLEEP", 9),
    ("disk", "IN D", 8),
)
# Left out, step by step, so that no column is cut at the table's edge (a cut right-aligned
# figure reads as another: "2" of "2.01s"): the states, the totals of waits and wall time,
# part of the command, then the CPU maximum. An 80-column terminal keeps the runs, failures,
# exit statuses, CPU, wall maximum and peak RSS.
NARROW: tuple[dict[str, int], ...] = (
    {"sleep": 0, "disk": 0},
    {"wait": 0, "wall_total": 0},
    {"command": 16},
    {"cpu_max": 0},
)
SORTS: dict[str, Callable[[CommandStats], float]] = {
    "cpu_total": lambda s: s.cpu_s_total or 0.0,
    "cpu_max": lambda s: s.cpu_s_max or 0.0,
    "wall_max": lambda s: s.wall_s_max or 0.0,
    "wall_total": lambda s: s.wall_s_total or 0.0,
    "rss_max": lambda s: s.peak_rss_max or 0,
    "wait": lambda s: s.waiting_cpu_s_total or 0.0,
    "sleep": lambda s: s.sleeping_s_total or 0.0,
    "disk": lambda s: s.uninterruptible_s_total or 0.0,
    "count": lambda s: s.count,
    "failures": lambda s: s.failures,
}
SORT_KEYS = tuple(SORTS)
TITLES = {key: title for key, title, _w in COLUMNS}


def _seconds(v: float | None, incomplete: bool) -> str:
    text = fmt_seconds(v)
    return ("≥" + text) if incomplete and v is not None else text


def _exits(s: CommandStats) -> str:
    return " ".join(
        f"{code}×{n}" if n > 1 else code for code, n in sorted(s.exit_codes.items(), key=_code)
    )


def _code(item: tuple[str, int]) -> tuple[int, str]:
    code = item[0].split(" ")[0]  # (a signal's name after it)
    return (int(code), item[0]) if code.isdigit() else (1 << 16, item[0])


def finished_cells(s: CommandStats) -> dict[str, str]:
    """The cells of one command's row."""
    gaps = set(s.incomplete)
    return {
        "command": visible(s.command),
        "count": fmt_int(s.count),
        "failures": fmt_int(s.failures) if s.failures else "",
        "cpu_total": _seconds(s.cpu_s_total, "cpu_s" in gaps),
        "cpu_max": _seconds(s.cpu_s_max, "cpu_s" in gaps),
        "wall_total": _seconds(s.wall_s_total, "wall_s" in gaps),
        "wall_max": _seconds(s.wall_s_max, "wall_s" in gaps),
        "rss_max": ("≥" if "peak_rss" in gaps and s.peak_rss_max is not None else "")
        + fmt_bytes(s.peak_rss_max, compact=True),
        "wait": _seconds(s.waiting_cpu_s_total, "sched" in gaps),
        "sleep": _seconds(s.sleeping_s_total, "sched" in gaps),
        "disk": _seconds(s.uninterruptible_s_total, "sched" in gaps),
        "exits": _exits(s),
    }


def sorted_commands(summary: FinishedSummary, sort_key: str) -> list[CommandStats]:
    """Largest first by ``sort_key``; ties by name."""
    key = SORTS[sort_key]
    return sorted(summary.commands, key=lambda s: (-key(s), s.command))


def footer_line(summary: FinishedSummary, scoped: bool = False, sort_key: str = "") -> str:
    text = f"finished · {counted(summary.processes, 'process', 'processes')} · "
    text += counted(len(summary.commands), "command")
    if sort_key:  # (narrowed to fit, the table may not show the column it is sorted by)
        text += f" · sorted by {TITLES[sort_key].lower()} (s)"
    if summary.other:
        text += f" · {summary.other:,} more, of commands past the limit"
    if scoped:
        text += " · the whole tree's (not only the scope's)"
    return text


class FinishedTable(RowTable):
    """Ended processes by command; ``s`` sorts by the next figure."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True, cell_padding=0)
        self.sort_key = "cpu_total"
        self._summary: FinishedSummary | None = None
        self._scoped = False
        self._shown: tuple[Column, ...] = ()

    def _columns(self, cells: list[dict[str, str]]) -> tuple[Column, ...]:
        """The columns for the table's width now: each with room for its title and the sort
        mark (▼), the exit statuses as wide as the widest; narrowed by ``NARROW`` to fit."""
        exits = max([len(" EXIT STATUS▼")] + [len(c["exits"]) + 1 for c in cells])
        columns = tuple(
            (key, title, exits if width is None else max(width, len(title) + 2))
            for key, title, width in COLUMNS
        )
        room = self.size.width - self.styles.scrollbar_size_vertical
        return fitted(columns, NARROW, room, 0, padding=0) if room > 0 else columns

    def show(self, summary: FinishedSummary, scoped: bool = False) -> None:
        self._summary, self._scoped = summary, scoped
        self._fill()

    def _fill(self) -> None:
        summary = self._summary
        if summary is None:
            return
        cursor = self.cursor_row
        commands = sorted_commands(summary, self.sort_key)
        every = [finished_cells(s) for s in commands]
        self._shown = show_columns(self, self._shown, self._columns(every))
        self.clear()
        for s, cells in zip(commands, every, strict=True):
            row = []
            for k, _, _ in self._shown:
                if k == "command":
                    cell = Text(cells[k], no_wrap=True, overflow="ellipsis")
                    cell.stylize("bold red" if s.failures else "")
                else:
                    cell = Text(" " + cells[k]) if k == "exits" else Text(cells[k], justify="right")
                row.append(cell)
            self.add_row(*row, key=s.command)
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1))
        set_border_title(self, footer_line(summary, self._scoped, self.sort_key))
        titles = {k: t for k, t, _ in COLUMNS}
        for key, column in self.columns.items():
            base = titles[str(key.value)]
            label = base + ("▼" if key.value == self.sort_key else "")
            if key.value == "exits":
                column.label = Text(" " + label)
            else:
                column.label = Text(label, justify="left" if key.value == "command" else "right")

    def on_resize(self) -> None:
        self._fill()  # the columns that fit

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._fill()
