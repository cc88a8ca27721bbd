"""The Privileges tab: what the tree did that needs or changes privilege (the privileges
family). Above, each capability each process was checked for, granted and denied, counted in
the kernel (a denial is what "it needs root" looks like); below, each privileged call in order
with its arguments, result and the uid/gid after it. Names and paths are shown as harmless
text."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical

from denet_tui.event_filter import EventFilter
from denet_tui.event_logs import EventLog, LatestRows
from denet_tui.model import CapabilityStat, PrivilegeEvent
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, FittedTable
from denet_tui.widgets.format import clock_ms, fmt_int
from denet_tui.widgets.redraw import set_border_title

CAP_COLUMNS: tuple[Column, ...] = (
    ("pid", "PID", 8),
    ("name", "PROCESS", 16),
    ("capability", "CAPABILITY", 22),
    ("granted", "GRANTED", 9),
    ("denied", "DENIED", 8),
    ("first", "FIRST", 12),
    ("last", "LAST", None),
)
CAP_NARROW = ({"name": 10, "capability": 19, "granted": 8, "denied": 7, "first": 0},)
CAP_ROOM = 12  # the last check's time
CALL_COLUMNS: tuple[Column, ...] = (
    ("time", "TIME", 12),
    ("pid", "PID", 8),
    ("name", "PROCESS", 16),
    ("call", "CALL", 13),
    ("result", "RESULT", 9),
    ("ids", "UID:GID", 12),
    ("detail", "ARGUMENTS", None),
)
# In a narrow terminal (80 columns): the process's name left out (its pid stays).
CALL_NARROW = ({"pid": 7, "name": 0, "call": 11, "result": 7, "ids": 11},)
CALL_ROOM = 16


def capability_cells(r: CapabilityStat) -> list[Text]:
    return [
        Text(str(r.pid), justify="right"),
        Text(visible(r.name), no_wrap=True, overflow="ellipsis"),
        Text(r.capability, style="red" if r.denied else ""),
        Text(fmt_int(r.granted) if r.granted else "", justify="right"),
        Text(fmt_int(r.denied) if r.denied else "", justify="right", style="red"),
        Text(clock_ms(r.first_ts), style="dim"),
        Text(clock_ms(r.last_ts), style="dim"),
    ]


def call_cells(e: PrivilegeEvent) -> list[Text]:
    detail = Text(e.detail)
    if e.path is not None:
        detail.append((" " if e.detail else "") + visible(e.path), style="bold")
    return [
        Text(clock_ms(e.ts), style="dim"),
        Text(str(e.pid), justify="right"),
        Text(visible(e.name), no_wrap=True, overflow="ellipsis"),
        Text(e.call, style="bold"),
        Text(e.error, style="red") if e.error else Text(str(e.result)),
        Text(f"{e.uid}:{e.gid}", style="" if e.uid else "yellow"),
        detail,
    ]


def capability_order(r: CapabilityStat) -> tuple:
    """Denials first (what failed for want of privilege), then by process and capability."""
    return (not r.denied, r.pid, r.capability)


class PrivilegesView(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "switch_table", "Checks/calls"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._versions: tuple | None = None

    def compose(self) -> ComposeResult:
        yield FittedTable(CAP_COLUMNS, CAP_NARROW, CAP_ROOM, id="capabilities-table")
        yield FittedTable(CALL_COLUMNS, CALL_NARROW, CALL_ROOM, id="privileged-calls-table")

    def show(self, calls: EventLog, caps: LatestRows, flt: EventFilter) -> None:
        if (calls.version, caps.version, flt) == self._versions:
            return
        self._versions = (calls.version, caps.version, flt)
        narrowed = f" · {flt.describe()}" if flt.active else ""
        table = self.query_one("#capabilities-table", FittedTable)
        checks = flt.select(caps.rows.values())
        table.fill(map(capability_cells, sorted(checks, key=capability_order)), follow=False)
        denied = sum(1 for r in checks if r.denied)
        title = (
            f"capability checks · {len(checks):,} (process, program, capability), {denied:,} denied"
        )
        set_border_title(table, Text(title + narrowed))
        table = self.query_one("#privileged-calls-table", FittedTable)
        rows = flt.select(calls.rows)
        self.set_class(not rows, "-no-calls")  # the checks then have the room (app.tcss)
        table.fill(map(call_cells, rows))
        failed = sum(1 for e in rows if e.error)
        title = f"privileged calls · {len(rows):,}, {failed:,} failed" + narrowed
        if calls.dropped:
            title += f" · {calls.dropped:,} older ones let go"
        set_border_title(table, Text(title))

    def action_switch_table(self) -> None:
        """Move the keys between the capability checks and the calls."""
        calls = self.query_one("#privileged-calls-table", FittedTable)
        caps = self.query_one("#capabilities-table", FittedTable)
        (caps if calls.has_focus else calls).focus()
