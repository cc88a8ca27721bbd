"""JSON lines out: the ``--json`` stream and ``--record`` files (meta, snapshots, end)."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from denet_tui.finished import wall_s
from denet_tui.model import (
    EMPTY_FINISHED,
    FinishedSummary,
    Meta,
    ProcessSample,
    Snapshot,
    end_record,
)
from denet_tui.output_paths import OutputError
from denet_tui.wire import TableElider, dumps


class JsonLinesSink:
    """Writes ``meta``, one ``snapshot`` per call, then ``end``; each line flushed as written."""

    def __init__(self, path: str | None, meta: Meta | None = None) -> None:
        """Opens ``path`` now (None or "-": stdout); writes ``meta`` now, or at ``begin``."""
        self._own = path not in (None, "-")
        self._path = path if self._own else "standard output"
        self._f: IO[str] = open(path, "w", encoding="utf-8") if self._own else sys.stdout  # noqa: SIM115
        self._closed = False
        self._begun = False
        self._elider = TableElider()
        if meta is not None:
            self.begin(meta)

    def begin(self, meta: Meta) -> None:
        """Write the ``meta`` line (once: later calls do nothing)."""
        if not self._begun:
            self._begun = True
            self._line(meta.to_dict())

    def _line(self, obj: dict[str, Any] | str) -> None:
        try:
            self._f.write((obj if isinstance(obj, str) else dumps(obj)) + "\n")
            self._f.flush()
        except BrokenPipeError:
            # A reader that went away (`| head`) is not our error; stop writing.
            self._closed = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._f.fileno())
        except OSError as e:  # a full disk: said once, in one line; nothing more is written
            self._closed = True
            raise OutputError(self._path, e) from None

    def write(self, snap: Snapshot) -> None:
        if not self._closed:
            self._line(self._elider.line(snap))

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        if self._closed:
            return
        if last is not None and self._begun:
            wall = wall_s(root) if root is not None and not root.alive else None
            wall = None if wall is None else round(wall, 6)  # (the times' own precision)
            self._line(end_record(last, ended_by, finished, wall))
        self._closed = True
        if self._own:
            self._f.close()
