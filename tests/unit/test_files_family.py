"""The files family's per-path figures in user space, fed entries as the kernel's table holds
them: a path's process count stays exact while the processes that used it are forgotten, and
what is kept per path does not grow with the number of processes ever seen."""

from __future__ import annotations

import pytest

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.families import files
from denet_tui.collectors.ebpf.layout import FILE_PATH, FILE_SHORT


def _entry(serial: int, path: bytes, calls: int = 1) -> tuple[tuple, tuple]:
    # struct file_key_short: serial, op (0: open), cwd id (0: absolute), pad, path
    return (serial, 0, 0, 0, path.ljust(FILE_SHORT, b"\0")), (calls, 0, 10, 20, 0, 1)


@pytest.fixture
def family(monkeypatch: pytest.MonkeyPatch) -> tuple[files.FilesFamily, list]:
    pending: list = []

    def dump_raw(tbl: object, key_fmt: str, value_fmt: str, *, delete: bool = False) -> list:
        if key_fmt == files.SHORT_KEY_FMT:
            got, pending[:] = list(pending), []
            return got
        assert key_fmt in (files.KEY_FMT, "I") and FILE_PATH > FILE_SHORT
        return []

    monkeypatch.setattr(bpf_maps, "dump_raw", dump_raw)
    fam = files.FilesFamily()
    names = (b"file_stats", b"file_stats_short", b"cwds", b"cwd_names")
    fam.bind({name: object() for name in names}, None)  # type: ignore[arg-type]
    return fam, pending


def test_processes_stay_counted_once_forgotten_and_nothing_of_theirs_is_kept(family) -> None:
    fam, pending = family
    serials = range(1, 3001)
    for serial in serials:  # 3,000 short-lived processes, each opening the same two files
        pending += [_entry(serial, b"/etc/ld.so.cache"), _entry(serial, b"/lib/libc.so.6", 2)]
        if serial % 100 == 0:
            fam.read_ended(set(serials))
            fam.forget(list(range(serial - 99, serial - 49)))  # the older half of them
    fam.read_ended(set(serials))
    rows = {r.path: r for r in fam.snapshot_fields()["files"]}
    assert rows["/etc/ld.so.cache"].processes == 3000 and rows["/etc/ld.so.cache"].calls == 3000
    assert rows["/lib/libc.so.6"].processes == 3000 and rows["/lib/libc.so.6"].calls == 6000
    # Only the processes not forgotten yet are held by serial.
    held = sum(len(p.serials) for p in fam._paths.values())
    assert held == 2 * 1500 and len(fam._touched) == 1500
    fam.forget(list(serials))
    assert not fam._touched and all(not p.serials for p in fam._paths.values())
    # A late entry of a forgotten process adds its calls, not the process again.
    pending.append(_entry(7, b"/etc/ld.so.cache"))
    fam.read_ended(set())
    (row,) = fam.snapshot_fields()["files"]
    assert row.processes == 3000 and row.calls == 3001


def test_one_process_opening_a_path_in_many_samples_counts_once(family) -> None:
    fam, pending = family
    for _ in range(5):
        pending.append(_entry(42, b"/etc/hosts"))
        fam.read_ended({42})
    (row,) = fam.snapshot_fields()["files"]
    assert row.processes == 1 and row.calls == 5
    fam.forget([42])
    pending.append(_entry(43, b"/etc/hosts"))
    fam.read_ended({43})
    (row,) = fam.snapshot_fields()["files"]
    assert row.processes == 2 and row.calls == 6
