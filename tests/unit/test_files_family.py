"""The files family's rows in user space, fed the kernel's per-id figures as a sample reads them:
each id's growth is added once to its row, ids named later are caught up, and rows beyond the
limit are counted as left out."""

from __future__ import annotations

import struct

from denet_tui.collectors.ebpf.families import files


def _figures(*ids: tuple[int, int, int]) -> bytes:
    """The stats array's first slots: (calls, failures, processes) per id, in order."""
    return b"".join(struct.pack(files.VAL_FMT, c, f, p, 10, 20, 2, 1, 7, 0, 7) for c, f, p in ids)


def test_each_ids_growth_is_added_once_to_its_row() -> None:
    fam = files.FilesFamily()
    # Two ids of one row (a relative path under two working directory ids), one of another.
    fam._rows_of = {0: ("/src/a.c", 0, None, True), 1: ("/src/a.c", 0, None, True)}
    fam._rows_of[2] = ("/etc/hosts", 0, None, False)
    seen = b""
    for step in (
        _figures((1, 0, 1), (0, 0, 0), (5, 5, 2)),
        _figures((3, 0, 2), (2, 1, 1), (5, 5, 2)),
    ):
        fam._add_changed(step, seen)
        seen = step
    rows = {(r.path, r.joined): r for r in fam.snapshot_fields()["files"]}
    a, hosts = rows["/src/a.c", True], rows["/etc/hosts", False]
    assert (a.calls, a.failures, a.processes, a.error) == (5, 1, 3, "ENOENT")
    assert (hosts.calls, hosts.failures, hosts.processes) == (5, 5, 2)
    # Nothing changed since: no row is handed again.
    assert fam._add_changed(seen, seen) == 0 and fam.snapshot_fields()["files"] == ()


def test_an_id_counted_before_its_name_is_caught_up_when_named() -> None:
    fam = files.FilesFamily()
    fam._seen = first = _figures((4, 0, 4))
    fam._add_changed(first, b"")  # its name is not drained yet
    assert fam.snapshot_fields()["files"] == ()
    fam._rows_of[0] = ("/lib/libc.so.6", 0, None, False)
    now = _figures((6, 0, 6))
    fam._add_changed(now, fam._seen)
    (row,) = fam.snapshot_fields()["files"]
    assert (row.calls, row.processes) == (6, 6)


def test_rows_beyond_the_limit_are_counted_as_left_out(monkeypatch) -> None:
    monkeypatch.setattr(files, "MAX_PATHS", 1)
    fam = files.FilesFamily()
    fam._rows_of = {0: ("/a", 0, None, False), 1: ("/b", 0, None, False)}
    fam._add_changed(_figures((2, 0, 1), (3, 0, 1)), b"")
    (row,) = fam.snapshot_fields()["files"]
    assert row.path == "/a" and fam.left_out == 3
