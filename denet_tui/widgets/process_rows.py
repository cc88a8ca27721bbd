"""The process tree's lines, formatted: which figure columns fit a width, each process's cells
(a rate over the last interval or a value, by unit), the line and its column titles. Pure: no
Textual."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from rich.text import Text

from denet_tui.figures import figure
from denet_tui.model import ProcessSample
from denet_tui.rates import RW_CALLS, Rates
from denet_tui.visible import visible as visible_text
from denet_tui.widgets.format import NA, fmt_bytes, fmt_count, fmt_cpu, fmt_cpu_time, fmt_int

SORT_KEYS = ("pid", "cpu", "rss", "rate")
SORT_OF = {"cpu_percent": "cpu", "rss_bytes": "rss", "calls": "rate"}  # column -> sort key
NAME_MIN = 34  # extra columns are added only while the name keeps this much room


@dataclass(frozen=True, slots=True)
class Column:
    key: str  # a figure (denet_tui.figures); "calls": calls/s of what the collector counts
    width: int
    rate: bool = False  # the figure's rate per second (a counter), not its value

    def title(self, exact: bool) -> str:
        return figure(_calls_figure(exact) if self.key == "calls" else self.key).column


def _calls_figure(exact: bool) -> str:
    # Exact collectors count every syscall; /proc counts read+write calls (syscr+syscw).
    return "syscalls" if exact else "read_syscalls"


# The tree's columns, by figure: always shown, then while there is room (in this order).
ALWAYS = (Column("cpu_percent", 7), Column("rss_bytes", 7), Column("calls", 7, rate=True))
WHEN_ROOM = (
    Column("state", 3),
    Column("cpu_time_s", 10),
    Column("runq_wait_s", 7, rate=True),
    Column("read_bytes", 9, rate=True),
    Column("write_bytes", 9, rate=True),
    Column("net_rx_bytes", 9, rate=True),
    Column("net_tx_bytes", 9, rate=True),
    Column("read_chars", 8, rate=True),
    Column("write_chars", 8, rate=True),
    Column("threads", 5),
    Column("peak_rss_bytes", 8),
)


NET_KEYS = frozenset({"net_rx_bytes", "net_tx_bytes"})


@lru_cache(maxsize=64)
def columns_for(width: int, *, exact: bool) -> tuple[Column, ...]:
    """The figure columns for a tree ``width`` cells wide: CPU %, RSS and calls/s always, then,
    while there is room, the state, cumulative CPU time, the share of time spent waiting for a
    CPU, disk read and write bytes/s, network bytes received and sent per second, logical
    read and write bytes/s (whatever they reached: cache, pipes, sockets), threads and the
    peak RSS."""
    cols = list(ALWAYS)
    for extra in WHEN_ROOM:
        if not exact and extra.key in NET_KEYS:
            continue  # /proc has no per-process network counter
        if width - sum(c.width for c in cols) - extra.width < NAME_MIN:
            break
        cols.append(extra)
    # The state goes first, as in htop and top.
    return tuple(sorted(cols, key=lambda c: c.key != "state"))


@dataclass(frozen=True, slots=True)
class Row:
    """One process line, already formatted."""

    pid: int
    name: str
    args: str
    alive: bool
    cells: Mapping[str, str]
    matched: bool = True  # False: shown only as the ancestor of a filter match
    scoped: bool = False  # the root of the current scope


def _cell(p: ProcessSample, r: Rates | None, c: Column, exact: bool) -> str:
    """One figure of ``p`` as a cell: its rate over the last interval or its value, by unit.
    An exited process keeps only what stays true after its end: totals and peaks."""
    key = c.key
    if key == "state":
        return (p.state or NA) if p.alive else ""  # "exited" says it
    if key == "cpu_percent":
        return (
            fmt_cpu(r["cpu_percent"] if r is not None else p.cpu_percent) if p.alive else "exited"
        )
    if key == "calls":
        return fmt_count(r[RW_CALLS if not exact else "syscalls"] if r else None) if p.alive else NA
    f = figure(key)
    if c.rate:
        if not p.alive:
            return NA
        v = r[key] if r else None
        if f.unit == "seconds":
            return fmt_cpu(None if v is None else v * 100.0)  # seconds a second: a share
        return fmt_bytes(v, compact=True) if f.unit == "bytes" else fmt_count(v)
    v = f.of(p)
    if f.unit == "seconds":
        return fmt_cpu_time(v)  # TIME+: the total, also once exited
    if key.startswith("peak_"):
        return fmt_bytes(v, compact=True)  # a peak stays true once exited
    if not p.alive:
        return NA  # an exited process has no current figures
    return fmt_bytes(v, compact=True) if f.unit == "bytes" else fmt_int(v)


def make_row(
    p: ProcessSample,
    r: Rates | None,
    *,
    exact: bool,
    matched: bool,
    scoped: bool,
    columns: tuple[Column, ...],
) -> Row:
    """``p``'s line, with the cells of ``columns`` (those shown: a build changes a hundred
    lines a second)."""
    cells = {c.key: _cell(p, r, c, exact) for c in columns}
    # Names and arguments are the process's own choice: control characters are made visible.
    name, args = visible_text(p.name), visible_text(" ".join(p.cmdline[1:]))
    return Row(p.pid, name, args, p.alive, cells, matched, scoped)


def row_text(row: Row, width: int, cols: tuple[Column, ...]) -> Text:
    """``name pid args`` on the left (truncated), the figures right-aligned, exactly ``width``."""
    left_w = max(1, width - sum(c.width for c in cols))
    left = Text(no_wrap=True, overflow="ellipsis", end="")
    if row.scoped:
        left.append("◆ ", style="bold cyan")
    name_style = "bold" if row.alive and row.matched else "dim"
    if not row.alive:
        name_style += " strike"
    left.append(row.name, style=name_style)
    left.append(f" {row.pid}", style="dim cyan" if row.alive else "dim")
    if row.args:
        left.append(" ")
        left.append(row.args, style="dim")
    left.truncate(left_w, overflow="ellipsis", pad=True)
    right = Text(end="")
    for c in cols:
        right.append(row.cells[c.key].rjust(c.width), style="" if row.alive else "dim")
    if not row.matched:
        right.stylize("dim")
    return Text.assemble(left, right, no_wrap=True, end="")


def header_text(width: int, sort_key: str, cols: tuple[Column, ...], *, exact: bool = True) -> Text:
    """Column titles matching :func:`row_text`; the sort column is marked."""

    def title(key: str, label: str, w: int) -> Text:
        mark = ("▲" if key == "pid" else "▼") if key == sort_key else ""
        style = "bold reverse" if key == sort_key else "bold"
        return Text((label + mark).rjust(w), style=style)

    left = Text.assemble(("PROCESS ", "bold"), title("pid", "PID", 0))
    left.truncate(max(1, width - sum(c.width for c in cols)), pad=True)
    return Text.assemble(
        left,
        *(title(SORT_OF.get(c.key, c.key), c.title(exact), c.width) for c in cols),
        no_wrap=True,
        end="",
    )


def sort_value(p: ProcessSample, r: Rates | None, key: str, exact: bool) -> float:
    """``p``'s place by sort ``key`` (SORT_KEYS): the biggest figure first, unknown last."""
    if key == "cpu":
        v = r["cpu_percent"] if r is not None else p.cpu_percent
    elif key == "rss":
        v = p.rss_bytes
    elif key == "rate":
        v = None if r is None else r["syscalls" if exact else RW_CALLS]
    else:
        return p.pid
    return -(v if v is not None else -1.0)
