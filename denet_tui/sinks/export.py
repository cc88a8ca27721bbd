"""``--export FILE``: the last snapshot, with its meta, as one pretty JSON object at the end; its
event families' tables are the whole run's (``RunTables``), not only its interval's."""

from __future__ import annotations

import json
import os

from denet_tui.event_logs import RunTables
from denet_tui.model import (
    EMPTY_FINISHED,
    FinishedSummary,
    Meta,
    ProcessSample,
    Snapshot,
    export_record,
)
from denet_tui.output_paths import OutputError


def write_export(
    path: str, meta: Meta, snap: Snapshot, finished: FinishedSummary = EMPTY_FINISHED
) -> str:
    """Write one snapshot with its meta as pretty JSON; returns the absolute path written."""
    path = os.path.abspath(path)
    text = json.dumps(export_record(meta, snap, finished), indent=2, allow_nan=False) + "\n"
    try:
        if os.path.exists(path) and not os.path.isfile(path):
            # A device or a pipe (/dev/stdout, a fifo): written into, never replaced by a file.
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return path
        tmp = path + ".tmp"  # a reader never sees half an export
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise OutputError(path, e) from None
    return path


class ExportSink:
    def __init__(self, path: str) -> None:
        self.path = path
        self._meta: Meta | None = None
        self._tables = RunTables()

    def begin(self, meta: Meta) -> None:
        self._meta = meta

    def write(self, snap: Snapshot) -> None:
        """The last one is written at ``close``; the event families' rows are kept from all."""
        self._tables.add(snap)

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        if last is not None and self._meta is not None:
            write_export(self.path, self._meta, self._tables.since_start(last), finished)
