"""What the event families bring, kept for the tabs and the export.

``EventLog``: events in order (signals, privileged calls), each once, bounded: the newest
``max_rows`` are kept, and how many older ones were let go is counted. ``LatestRows``: tables
of figures since the start (files, capability checks), of which snapshots bring the rows that
changed: the last row of each key is kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from typing import Any

from denet_tui.model import Snapshot

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
    def __init__(self, field: str, key: Callable[[Any], Hashable]) -> None:
        self.field = field
        self.key = key
        self.rows: dict[Hashable, Any] = {}
        self.version = 0  # changes whenever a row does

    def add(self, snap: Snapshot) -> None:
        new = getattr(snap, self.field)
        for row in new:
            self.rows[self.key(row)] = row
        if new:
            self.version += 1
