"""Every signal of the tree in order (the signals family's events), bounded: the newest
MAX_ROWS are kept, and how many older ones were let go is counted."""

from __future__ import annotations

from collections import deque

from denet_tui.model import SignalEvent, Snapshot

MAX_ROWS = 10_000


class SignalsLog:
    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.rows: deque[SignalEvent] = deque(maxlen=max_rows)
        self.dropped = 0
        self.version = 0

    def add(self, snap: Snapshot) -> None:
        for e in snap.signals:
            if len(self.rows) == self.rows.maxlen:
                self.dropped += 1
            self.rows.append(e)
        if snap.signals:
            self.version += 1
