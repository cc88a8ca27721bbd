"""Every exec of the tree in order (the exec family's events), with how each program ended.

Snapshots bring the new execs once each; a successful exec's row later gets its process's exit
status and end time, from the snapshot that lists that process ended. Bounded: the newest
MAX_ROWS rows are kept, and how many older ones were let go is counted.
"""

from __future__ import annotations

import shlex
from collections import deque
from dataclasses import dataclass

from denet_tui.model import ExecEvent, Snapshot

MAX_ROWS = 10_000


@dataclass(slots=True)
class ProgramRow:
    event: ExecEvent
    exit_code: int | None = None
    killed_by_signal: int | None = None
    end_ts: float | None = None

    @property
    def duration_s(self) -> float | None:
        """From the exec to the process's end (None while it runs, or if it failed)."""
        return None if self.end_ts is None else max(0.0, self.end_ts - self.event.ts)


class ProgramsLog:
    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.rows: deque[ProgramRow] = deque(maxlen=max_rows)
        self.dropped = 0  # rows let go (the oldest), beyond max_rows
        self.version = 0  # changes whenever a row is added or completed
        self._running: dict[int, ProgramRow] = {}  # pid -> its last successful exec's row

    def add(self, snap: Snapshot) -> None:
        for e in snap.execs:
            if len(self.rows) == self.rows.maxlen:
                self.dropped += 1
            row = ProgramRow(e)
            self.rows.append(row)
            if e.error is None:
                self._running[e.pid] = row
            self.version += 1
        for p in snap.processes:
            if p.alive:
                continue
            row = self._running.pop(p.pid, None)
            if row is not None and (p.start_ts is None or p.start_ts <= row.event.ts):
                row.exit_code, row.end_ts = p.exit_code, p.end_ts
                row.killed_by_signal = p.killed_by_signal
                self.version += 1


def command_text(e: ExecEvent) -> str:
    """An exec as a shell would write it (its arguments quoted; marked where cut); a failed one
    with the path it tried (a PATH search tries several)."""
    args = shlex.join(e.argv) or e.path
    if e.argv_cut:
        args += " …(cut)"
    if e.error is not None and e.argv and e.argv[0] != e.path:
        args = f"{e.path}: {args}"
    return args
