"""Replay a recording (``--record`` / ``--json`` JSON lines) at the recording's own pace.

The file is read lazily, one snapshot ahead, so a long recording costs no more memory than a
short one. Snapshots come out in order; the time between two of them is the time between them
in the recording (their ``t``), minus nothing and plus any time spent paused.
"""

from __future__ import annotations

import json
import threading
import time
from typing import IO, Any

from denet_tui.collectors.base import CollectorError
from denet_tui.model import SCHEMA_VERSION, Meta, Snapshot
from denet_tui.target import Target
from denet_tui.wire import READABLE_SCHEMAS, TableMemory, totals_of_listing, upgrade_v1

# A line is read whole: bounded, so a source with no newlines cannot eat the memory.
MAX_LINE_CHARS = 64 * 1024 * 1024


class ReplayCollector:
    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._f: IO[str] = open(path, encoding="utf-8")  # noqa: SIM115 - read lazily
        except OSError as e:
            raise CollectorError(f"cannot read {path}: {e.strerror}") from None
        self._lineno = 0
        self.end: dict[str, Any] | None = None  # the recording's end line, once reached
        self.truncated_at: int | None = None  # the line number of a cut-short last line
        try:
            first = self._record()
            if first is None or first.get("kind") != "meta":
                raise CollectorError(f"{path}: not a denet-tui recording (no meta line first)")
            self.schema = first.get("schema")
            if self.schema not in READABLE_SCHEMAS:
                raise CollectorError(
                    f"{path}: recording schema {self.schema!r}, this denet-tui reads "
                    + " and ".join(map(str, READABLE_SCHEMAS))
                )
            self.meta = self._parse(Meta.from_dict, {**first, "schema": SCHEMA_VERSION})
            self._tables = TableMemory()
            self._next = self._next_snapshot()
            if self._next is None:
                raise CollectorError(f"{path}: the recording holds no snapshot")
        except BaseException:
            self._f.close()
            raise
        self.info = self.meta.collector
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        self._paused = False
        self._due_at: float | None = None  # monotonic time the next snapshot is due
        self._left_when_paused = 0.0

    # -- reading -------------------------------------------------------------------------

    def _record(self) -> dict[str, Any] | None:
        while True:
            try:
                line = self._f.readline(MAX_LINE_CHARS + 1)
            except UnicodeDecodeError:
                self._lineno += 1
                raise self._error("not text (not a JSON-lines recording)") from None
            except OSError as e:
                raise CollectorError(f"cannot read {self.path}: {e.strerror}") from None
            if not line:
                return None
            self._lineno += 1
            if len(line) > MAX_LINE_CHARS:  # an endless source, or no recording of ours
                raise self._error(f"a line longer than {MAX_LINE_CHARS:,} characters")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                if not line.endswith("\n") and self._lineno > 1:
                    # A recording cut short (its writer was killed): replay what is there.
                    self.truncated_at = self._lineno
                    return None
                raise self._error("not a JSON line") from None
            if not isinstance(obj, dict):
                raise self._error("not a JSON object")
            return obj

    def _error(self, what: str) -> CollectorError:
        return CollectorError(f"{self.path}:{self._lineno}: {what}")

    def _parse(self, from_dict: Any, obj: dict[str, Any]) -> Any:
        try:
            return from_dict(obj)
        except KeyError as e:
            raise self._error(f"{obj.get('kind')} record without the field {e}") from None
        except (TypeError, ValueError, AttributeError) as e:
            raise self._error(f"malformed {obj.get('kind')} record ({e})") from None

    def _next_snapshot(self) -> Snapshot | None:
        while (obj := self._record()) is not None:
            kind = obj.get("kind")
            if kind == "snapshot":
                if self.schema == 1:
                    return totals_of_listing(self._parse(Snapshot.from_dict, upgrade_v1(obj)))
                snap = self._parse(Snapshot.from_dict, obj)
                try:
                    return self._tables.restore(snap)
                except ValueError as e:
                    raise self._error(f"malformed snapshot record ({e})") from None
            if kind == "end":
                self.end = upgrade_v1(obj) if self.schema == 1 else obj
                return None
        return None

    # -- the collector protocol ------------------------------------------------------------

    def start(self, target: Target | None = None) -> None:
        """Start the clock: the first snapshot is due at once. ``sample`` starts it if needed."""
        with self._lock:
            if self._due_at is None:
                self._due_at = time.monotonic()

    def sample(self) -> Snapshot:
        """The next recorded snapshot (the last one again once the recording is over)."""
        with self._lock:
            self._advance()
            assert self._current is not None
            return self._current

    def close(self) -> None:
        self._f.close()

    # -- pace, pause and step ------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the last snapshot has been handed out."""
        return self._next is None

    @property
    def paused(self) -> bool:
        return self._paused

    def due_in(self) -> float | None:
        """Seconds until the next snapshot is due; None while paused or when there is none."""
        with self._lock:
            if self._paused or self._next is None:
                return None
            if self._due_at is None:
                return 0.0
            return max(0.0, self._due_at - time.monotonic())

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            if paused == self._paused:
                return
            self._paused = paused
            now = time.monotonic()
            if paused:
                self._left_when_paused = max(0.0, (self._due_at or now) - now)
            else:
                self._due_at = now + self._left_when_paused

    def step(self) -> Snapshot | None:
        """Hand out the next snapshot now (for single-stepping while paused); None at the end."""
        with self._lock:
            if self._next is None:
                return None
            self._advance()
            return self._current

    def _advance(self) -> None:
        if self._next is None:
            return
        self._current, self._next = self._next, self._next_snapshot()
        gap = max(0.0, self._next.t - self._current.t) if self._next is not None else 0.0
        self._due_at = time.monotonic() + gap
        self._left_when_paused = gap
