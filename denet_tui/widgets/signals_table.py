"""The Signals tab: every signal sent to or from the tree, and each one its processes took,
in order — who sent which signal to whom, and what came of it (the signals family). A side
outside the watched tree is marked "outside"; names are shown as harmless text."""

from __future__ import annotations

from rich.text import Text

from denet_tui.event_filter import EventFilter
from denet_tui.event_logs import EventLog
from denet_tui.model import SignalEvent
from denet_tui.signals import KIND_LABEL
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, FittedTable
from denet_tui.widgets.format import clock_ms
from denet_tui.widgets.redraw import set_border_title

COLUMNS: tuple[Column, ...] = (
    ("time", "TIME", 12),
    ("kind", "EVENT", 5),
    ("signal", "SIGNAL", 9),
    ("sender", "FROM", 26),
    ("target", "TO", 26),
    ("outcome", "OUTCOME", None),
)
# Narrower, step by step (down to an 80-column terminal, where the time is left out: the
# outcome whole says which signal ended a process; the Events tab has the times).
NARROW = (
    {"sender": 18, "target": 18},
    {"signal": 8, "sender": 12, "target": 12},
    {"time": 0},
)
ROOM = 22  # cells of the outcome ("default: fatal SIGTERM")


def side(pid: int | None, name: str | None, in_tree: bool | None) -> Text:
    if pid is None:
        return Text("")
    out = Text(f"{pid} {visible(name or '?')}", no_wrap=True, overflow="ellipsis")
    if not in_tree:
        out.append(" (outside)", style="yellow")
    return out


def signal_cells(e: SignalEvent) -> list[Text]:
    when = clock_ms(e.ts)
    bad = e.outcome not in ("delivered", "handler")
    return [
        Text(when, style="dim"),
        Text(KIND_LABEL.get(e.kind, e.kind), style="dim" if e.kind == "delivered" else ""),
        Text(e.signal, style="bold"),
        side(e.sender_pid, e.sender_name, e.sender_in_tree),
        side(e.target_pid, e.target_name, e.target_in_tree),
        Text(e.outcome, style="yellow" if bad else "", no_wrap=True, overflow="ellipsis"),
    ]


class SignalsTable(FittedTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(COLUMNS, NARROW, ROOM, id=id)
        self._version: tuple | None = None

    def show(self, log: EventLog, flt: EventFilter) -> None:
        if (log.version, flt) == self._version:
            return
        self._version = (log.version, flt)
        rows = flt.select(log.rows)
        self.fill(map(signal_cells, rows))
        sent = sum(1 for e in rows if e.kind == "sent")
        title = f"signals · {sent:,} sent, {len(rows) - sent:,} taken"
        if flt.active:
            title += f" · {flt.describe()} (of {len(log.rows):,})"
        if log.dropped:
            title += f" · {log.dropped:,} older ones let go"
        set_border_title(self, Text(title))
