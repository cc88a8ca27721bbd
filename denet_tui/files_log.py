"""Every path the tree opened (removed, renamed…), as the latest row of each path and kind of
call (the files family): snapshots bring the rows that changed; this keeps the last of each, for
the Files tab and the export."""

from __future__ import annotations

from denet_tui.model import FileStat, Snapshot


class FilesLog:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], FileStat] = {}  # by (path, op)
        self.version = 0  # changes whenever a row does

    def add(self, snap: Snapshot) -> None:
        for row in snap.files:
            self.rows[row.path, row.op] = row
        if snap.files:
            self.version += 1
