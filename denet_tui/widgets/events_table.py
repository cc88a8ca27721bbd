"""The Events tab: every event of the tree in one time order, like ProcMon's — each exec, each
process's end with its status, each signal sent or taken, each privileged call — with the
process, what happened, the detail and the result. ``f`` narrows it to one family; the scope
(Enter/Esc) and the filter (``/``) apply. Kernel strings are shown as harmless text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from denet_tui.event_filter import EVERYTHING, EventFilter
from denet_tui.event_logs import FAMILIES, EventTimeline, LoggedEvent
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, FittedTable
from denet_tui.widgets.format import clock_ms
from denet_tui.widgets.redraw import set_border_title

COLUMNS: tuple[Column, ...] = (
    ("time", "TIME", 12),
    ("pid", "PID", 8),
    ("name", "PROCESS", 14),
    ("family", "FAMILY", 9),
    ("event", "EVENT", 17),  # "SIGCHLD delivered" whole
    ("result", "RESULT", 22),  # "default: fatal SIGTERM" whole
    ("detail", "DETAIL", None),
)
# Narrower, step by step (down to an 80-column terminal): the family (each event's name says
# it) left out, the result cut (whole at 120 columns), then the pid left out.
NARROW = (
    {"pid": 7, "name": 12, "family": 0},
    {"result": 14},
    {"pid": 0, "result": 10},
)
ROOM = 24  # cells of the detail
FAMILY_STYLE = {"exec": "cyan", "exit": "dim", "signal": "magenta", "privilege": "yellow"}


def event_cells(e: LoggedEvent) -> list[Text]:
    return [
        Text(clock_ms(e.ts), style="dim"),
        Text(str(e.pid), justify="right"),
        Text(visible(e.name), no_wrap=True, overflow="ellipsis"),
        Text(e.family, style=FAMILY_STYLE.get(e.family, "")),
        Text(e.event, style="bold"),
        Text(e.result, style="red" if e.failed else "", no_wrap=True, overflow="ellipsis"),
        Text(visible(e.detail), no_wrap=True, overflow="ellipsis"),
    ]


def shown_events(log: EventTimeline, family: str | None, flt: EventFilter) -> list[LoggedEvent]:
    return [
        e
        for e in log.rows
        if (family is None or e.family == family) and (not flt.active or flt.matches(e.source))
    ]


class EventsTable(FittedTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f", "cycle_family", "Family")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, NARROW, ROOM, id=id)
        self.family: str | None = None  # None: every family
        self._log: EventTimeline | None = None
        self._flt = EVERYTHING
        self._version: tuple | None = None

    def show(self, log: EventTimeline, flt: EventFilter) -> None:
        self._log, self._flt = log, flt
        if (log.version, flt, self.family) != self._version:
            self._fill()

    def _fill(self) -> None:
        log, flt = self._log, self._flt
        if log is None:
            return
        self._version = (log.version, flt, self.family)
        rows = shown_events(log, self.family, flt)
        self.fill(map(event_cells, rows))
        failed = sum(1 for e in rows if e.failed)
        title = f"events · {len(rows):,}, {failed:,} failed"
        title += f" · {self.family} only (f)" if self.family else " · f: one family"
        if flt.active:
            title += f" · {flt.describe()}"
        if log.dropped:
            title += f" · {log.dropped:,} older ones let go"
        set_border_title(self, Text(title))

    def action_cycle_family(self) -> None:
        order = (None, *FAMILIES)
        self.family = order[(order.index(self.family) + 1) % len(order)]
        self._fill()
