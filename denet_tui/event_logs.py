"""What the event families bring, kept for the tabs and the export.

``EventLog``: events in order (signals, privileged calls), each once, bounded: the newest
``max_rows`` are kept, and how many older ones were let go is counted. ``LatestRows``: tables
of figures since the start (files, capability checks), of which snapshots bring the rows that
changed: the last row of each key is kept. ``RunTables``: all of them, as the tabs show them
and an export writes them. ``EventTimeline``: every event of every family in one time order
(the Events tab).
"""

from __future__ import annotations

import bisect
import heapq
import shlex
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from denet_tui.evolve import evolve
from denet_tui.model import ProcessSample, SignalEvent, Snapshot
from denet_tui.programs import ProgramsLog, command_text
from denet_tui.signals import KIND_LABEL, exit_text

MAX_ROWS = 10_000


class EventLog:
    def __init__(self, field: str, max_rows: int = MAX_ROWS) -> None:
        self.field = field  # the Snapshot field the events come in
        self.rows: deque[Any] = deque(maxlen=max_rows)
        self.dropped = 0
        self.version = 0  # changes whenever a row comes

    def add(self, snap: Snapshot) -> None:
        new = getattr(snap, self.field)
        for e in new:
            if len(self.rows) == self.rows.maxlen:
                self.dropped += 1
            self.rows.append(e)
        if new:
            self.version += 1


class LatestRows:
    def __init__(
        self, field: str, key: Callable[[Any], Hashable], max_rows: int | None = None
    ) -> None:
        self.field = field
        self.key = key
        self.max_rows = max_rows  # the newest kept, if given (the others counted in dropped)
        self.rows: dict[Hashable, Any] = {}
        self.dropped = 0
        self.version = 0  # changes whenever a row does

    def add(self, snap: Snapshot) -> None:
        new = getattr(snap, self.field)
        rows = self.rows
        for row in new:
            key = self.key(row)
            if self.max_rows is not None:
                rows.pop(key, None)  # the newest last
            rows[key] = row
        if self.max_rows is not None:
            while len(rows) > self.max_rows:
                del rows[next(iter(rows))]
                self.dropped += 1
        if new:
            self.version += 1


class RunTables:
    """The event families' rows since the start: every exec, signal and privileged call (the
    newest ``MAX_ROWS`` of each), and the latest row of every path, capability check, device
    and connection (of the newest ``MAX_ROWS`` keys where a run can make many)."""

    def __init__(self) -> None:
        self.programs = ProgramsLog()
        self.files = LatestRows("files", lambda r: (r.path, r.op, r.relative, r.joined))
        self.signals = EventLog("signals")
        self.privileges = EventLog("privileges")
        self.capabilities = LatestRows(
            "capabilities", lambda r: (r.pid, r.name, r.capability), max_rows=MAX_ROWS
        )
        self.disks = LatestRows("disks", lambda r: (r.device, r.source, r.kind))
        self.connections = LatestRows(
            "connections", lambda c: (c.pid, c.local, c.remote, c.start_ts), max_rows=MAX_ROWS
        )

    def add(self, snap: Snapshot) -> None:
        self.programs.add(snap)
        for log in (
            self.files,
            self.signals,
            self.privileges,
            self.capabilities,
            self.disks,
            self.connections,
        ):
            log.add(snap)

    def since_start(self, snap: Snapshot) -> Snapshot:
        """``snap`` (the latest added) with these rows in place of its own, which are only
        those of its interval: what an export writes."""
        return evolve(
            snap,
            execs=tuple(r.event for r in self.programs.rows),
            files=tuple(self.files.rows.values()),
            signals=tuple(self.signals.rows),
            privileges=tuple(self.privileges.rows),
            capabilities=tuple(self.capabilities.rows.values()),
            disks=tuple(self.disks.rows.values()),
            connections=tuple(self.connections.rows.values()),
        )


def busy(p: ProcessSample) -> bool:
    """It moved bytes through a socket or a block device (the network and disk families)."""
    net, disk = p.net, p.disk
    return bool(
        (net is not None and (net.rx_bytes or net.tx_bytes))
        or (disk is not None and (disk.read_bytes or disk.write_bytes))
    )


class BusyProcesses:
    """The last sample of each process, alive or ended, that moved bytes through a socket or a
    block device: the newest ``max_rows`` kept (how many older ones were let go is counted)."""

    def __init__(self, max_rows: int = 10_000) -> None:
        self.max_rows = max_rows
        self.rows: dict[tuple[int, float | None], ProcessSample] = {}  # by (pid, start)
        self.dropped = 0
        self.version = 0

    def add(self, snap: Snapshot) -> None:
        rows = self.rows
        for p in snap.processes:
            if busy(p):
                key = (p.pid, p.start_ts)
                rows.pop(key, None)  # the newest last
                rows[key] = p
                self.version += 1
        while len(rows) > self.max_rows:
            del rows[next(iter(rows))]
            self.dropped += 1


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One line of the event log: any family's event in one shape (time, process, event,
    detail, result), with the event it came from (``source``, for the scope and the filter)."""

    ts: float
    pid: int
    name: str
    family: str  # exec, exit, signal, privilege
    event: str
    result: str
    failed: bool
    source: Any
    _detail: str | None = field(default=None, compare=False, repr=False)

    @property
    def detail(self) -> str:
        """Made when first shown: a build logs hundreds of events a second, most never looked
        at (a command line quoted as a shell would cost the most)."""
        if self._detail is None:
            object.__setattr__(self, "_detail", _DETAILS[self.family](self.source))
        return self._detail  # type: ignore[return-value]  # (set just above)


def _signal_detail(e: SignalEvent) -> str:
    if e.kind != "sent":
        return ""
    to = f"to {e.target_pid} {e.target_name}" + ("" if e.target_in_tree else " (outside)")
    return to if e.sender_in_tree else to + " from outside"


_DETAILS: dict[str, Callable[[Any], str]] = {
    "exec": command_text,
    "exit": lambda p: shlex.join(p.cmdline),
    "signal": _signal_detail,
    "privilege": lambda e: f"{e.detail} {e.path}" if e.path is not None else e.detail,
}

FAMILIES = ("exec", "exit", "signal", "privilege")


def logged(snap: Snapshot) -> list[LoggedEvent]:
    """A snapshot's events, each once, in time order: its execs, the processes that ended in
    its interval, its signals and its privileged calls."""
    out = [
        LoggedEvent(e.ts, e.pid, e.name, "exec", "exec", e.error or "ok", e.error is not None, e)
        for e in snap.execs
    ]
    out += [
        LoggedEvent(
            p.end_ts,
            p.pid,
            p.name,
            "exit",
            "exit",
            "status not seen"
            if p.exit_code is None
            else exit_text(p.exit_code, p.killed_by_signal),
            p.exit_code not in (0, None),
            p,
        )
        for p in snap.processes
        if not p.alive and p.end_ts is not None
    ]
    for e in snap.signals:
        sent = e.kind == "sent"
        pid, name = (e.sender_pid, e.sender_name) if sent else (e.target_pid, e.target_name)
        out.append(
            LoggedEvent(
                e.ts,
                pid or 0,
                name or "?",
                "signal",
                f"{e.signal} {KIND_LABEL.get(e.kind, e.kind)}",
                e.outcome,
                e.outcome not in ("delivered", "default", "handler", "ignored"),
                e,
            )
        )
    out += [
        LoggedEvent(
            e.ts,
            e.pid,
            e.name,
            "privilege",
            e.call,
            e.error or str(e.result),
            e.error is not None,
            e,
        )
        for e in snap.privileges
    ]
    return sorted(out, key=_ts)


def _ts(e: LoggedEvent) -> float:
    return e.ts


class EventTimeline:
    """Every event of the tree in time order (the event log), bounded: the newest
    ``max_rows`` kept, how many older ones were let go counted. A snapshot can bring an event
    older than the last one shown (a process reported ended once its threads settled): it goes
    in its place."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.rows: list[LoggedEvent] = []
        self.max_rows = max_rows
        self.dropped = 0
        self.version = 0

    def add(self, snap: Snapshot) -> None:
        new = logged(snap)
        rows = self.rows
        if new and rows and new[0].ts < rows[-1].ts:
            # Older than the last shown: merged in from its place on (after equal times).
            at = bisect.bisect_right(rows, new[0].ts, key=_ts)
            new = list(heapq.merge(rows[at:], new, key=_ts))
            del rows[at:]
        rows.extend(new)
        if len(self.rows) > self.max_rows:
            extra = len(self.rows) - self.max_rows
            del self.rows[:extra]
            self.dropped += extra
        if new:
            self.version += 1
