"""``--export FILE``: the last snapshot, with its meta, as one pretty JSON object at the end."""

from __future__ import annotations

import json
import os

from denet_tui.model import Meta, Snapshot, export_record


def write_export(path: str, meta: Meta, snap: Snapshot) -> str:
    """Write one snapshot with its meta as pretty JSON; returns the absolute path written."""
    path = os.path.abspath(path)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(export_record(meta, snap), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)
    return path


class ExportSink:
    def __init__(self, path: str) -> None:
        self.path = path
        self._meta: Meta | None = None

    def begin(self, meta: Meta) -> None:
        self._meta = meta

    def write(self, snap: Snapshot) -> None:
        """Only the last one counts: written at ``close``."""

    def close(self, last: Snapshot | None, ended_by: str) -> None:
        if last is not None and self._meta is not None:
            write_export(self.path, self._meta, last)
