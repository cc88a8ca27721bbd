"""Which events a tab shows: the scope (a process and its descendants, Enter/Esc) and the
filter text (``/``), as the process tree has them, applied to the event families' rows.

An event belongs to the scope when one of its processes is the scoped process or descends from
it. Events outlive their processes, so the ancestry is kept for every process seen (bounded:
the newest ``MAX_PROCESSES``; a pid reused later is taken for its newest process).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from denet_tui.model import (
    CapabilityStat,
    Connection,
    ExecEvent,
    FileStat,
    PrivilegeEvent,
    ProcessSample,
    SignalEvent,
    Snapshot,
)
from denet_tui.signals import exit_text

MAX_PROCESSES = 100_000
MAX_DEPTH = 256  # parents walked up at most (a loop of reused pids ends here)


class Ancestry:
    def __init__(self, max_processes: int = MAX_PROCESSES) -> None:
        self.parent: dict[int, int | None] = {}
        self.max_processes = max_processes

    def add(self, snap: Snapshot) -> None:
        for p in snap.processes:
            self._note(p.pid, p.ppid)
        for e in snap.execs:
            self._note(e.pid, e.ppid)

    def _note(self, pid: int, ppid: int | None) -> None:
        parent = self.parent
        if pid in parent:
            if ppid is None or parent[pid] == ppid:
                return
            del parent[pid]  # the newest last: the oldest go first
        elif len(parent) >= self.max_processes:
            del parent[next(iter(parent))]
        parent[pid] = ppid

    def descends(self, pid: int, root: int) -> bool:
        """``pid`` is ``root`` or one of its descendants (as far as the ancestry is known)."""
        for _ in range(MAX_DEPTH):
            if pid == root:
                return True
            up = self.parent.get(pid)
            if up is None:
                return False
            pid = up
        return False


def pids_of(row: Any) -> tuple[int, ...]:
    """The processes an event is about (none for a file's figures, summed over processes)."""
    if isinstance(row, SignalEvent):
        return tuple(p for p in (row.sender_pid, row.target_pid) if p is not None)
    if isinstance(row, ExecEvent | PrivilegeEvent | CapabilityStat | ProcessSample | Connection):
        return (row.pid,)
    return ()


def text_of(row: Any) -> str:
    """What the filter text is looked for in."""
    if isinstance(row, ExecEvent):
        return " ".join((row.name, row.path, *row.argv, row.error or "ok"))  # its result too
    if isinstance(row, SignalEvent):
        return f"{row.signal} {row.sender_name or ''} {row.target_name} {row.outcome}"
    if isinstance(row, PrivilegeEvent):
        return f"{row.name} {row.call} {row.detail} {row.path or ''} {row.error or ''}"
    if isinstance(row, CapabilityStat):
        return f"{row.name} {row.capability}"
    if isinstance(row, FileStat):
        return f"{row.path} {row.op} {row.error or ''}"
    if isinstance(row, ProcessSample):
        ended = () if row.exit_code is None else (exit_text(row.exit_code, row.killed_by_signal),)
        return " ".join((row.name, *row.cmdline, *ended))
    if isinstance(row, Connection):
        return f"{row.direction} {row.state} {row.local or ''} {row.remote or ''}"
    return ""


@dataclass(frozen=True)
class EventFilter:
    text: str = ""
    scope: int | None = None  # the scoped process (None: the whole tree)
    ancestry: Ancestry | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        return bool(self.text) or self.scope is not None

    def matches(self, row: Any) -> bool:
        if self.text and self.text.casefold() not in text_of(row).casefold():
            return False
        if self.scope is None or self.ancestry is None:
            return True
        pids = pids_of(row)
        if not pids:
            return True  # figures of no one process (a file's): the scope cannot narrow them
        return any(self.ancestry.descends(p, self.scope) for p in pids)

    def select(self, rows: Iterable[Any]) -> list[Any]:
        return [r for r in rows if self.matches(r)] if self.active else list(rows)

    def describe(self) -> str:
        """For a tab's title: what narrows it ("" when nothing does)."""
        parts = []
        if self.scope is not None:
            parts.append(f"subtree of {self.scope}")
        if self.text:
            parts.append(f"filter “{self.text}”")
        return " · ".join(parts)


EVERYTHING = EventFilter()  # no scope, no filter text
