"""Family "disk": the block I/O the tree causes (``bpf/disk``).

The kernel counts each block request at its start in the context that submits it: a process of
the tree (its figures, and its device's "tree" rows), or a kernel thread (the device's
"writeback" rows: pages flushed later, whoever dirtied them, not attributable). At the end of a
request its latency goes into the device's log2 histogram. Each sample reads the devices' rows
(a few) and the processes' entries; an entry goes when its process is forgotten.
"""

from __future__ import annotations

import ctypes as ct
from pathlib import Path
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.btf import kernel_offsets
from denet_tui.model import DiskDevice, ProcessDisk, SyscallSummary

DISK_BUCKETS = 40  # log2 ns: up to ~9 minutes
MAX_INFLIGHT = 16384  # requests between their start and their end
PROC_FMT = "QQQQ"  # struct disk_proc_val: read ops, read bytes, write ops, write bytes
DEV_KEY_FMT = "IIII"  # struct disk_dev_key: dev, who, rw, pad
DEV_VAL_FMT = "QQQQ" + "Q" * DISK_BUCKETS  # ops, bytes, done, lat_ns, hist
SOURCES = ("tree", "writeback")
KINDS = ("read", "write", "other")
MINOR_BITS = 20  # the kernel's dev_t: major << 20 | minor


def device_name(dev: int) -> str:
    """A kernel dev_t as its block device's name (from sysfs), else MAJ:MIN."""
    numbers = f"{dev >> MINOR_BITS}:{dev & ((1 << MINOR_BITS) - 1)}"
    try:
        for line in Path(f"/sys/dev/block/{numbers}/uevent").read_text().splitlines():
            if line.startswith("DEVNAME="):
                return line.removeprefix("DEVNAME=")
    except OSError:
        pass
    return numbers


class DiskFamily:
    per_process = True
    name = "disk"
    source = "disk"
    floors: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ...]] = {}  # serial -> its entry, as last read
        self._ran: set[int] = set()
        self._shown: dict[int, tuple[int, ...]] = {}
        self._devs: dict[tuple[int, int, int], tuple[int, ...]] = {}  # as last reported
        self._names: dict[int, str] = {}

    def defines(self) -> dict[str, int | str]:
        return {
            **kernel_offsets({"TASK_FLAGS": "task_struct.flags"}),
            "DISK_BUCKETS": DISK_BUCKETS,
            "MAX_INFLIGHT": MAX_INFLIGHT,
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._procs = bpf[b"disk_procs"]
        self._dev_map = bpf[b"disk_devs"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it did before it joined is not known: it counts from now

    def read_ended(self, known: set[int]) -> None:
        pass  # an ended process's entry stays until it is forgotten: read with the others

    def begin_live(self, active: set[int]) -> None:
        before = self._rows
        self._rows = {key[0]: v for key, v in bpf_maps.dump_raw(self._procs, "I", PROC_FMT)}
        self._ran = {s for s, v in self._rows.items() if before.get(s) != v}

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of this family is in the thread's state

    def forget(self, serials: list[int]) -> None:
        for serial in serials:
            self._rows.pop(serial, None)
            self._shown.pop(serial, None)
        bpf_maps.delete_many(self._procs, [(s,) for s in serials], "I")

    def settled(self, serial: int) -> bool:
        return True

    def ran(self, serial: int) -> bool:
        return serial in self._ran

    def changed(self, serial: int) -> bool:
        return self._rows.get(serial) != self._shown.get(serial)

    def figures(self, serial: int) -> dict[str, Any]:
        row = self._rows.get(serial) or (0, 0, 0, 0)
        self._shown[serial] = row
        return {"disk": ProcessDisk(*row)}

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals  # the ledger sums the processes' figures (figures.COUNTERS)

    def snapshot_fields(self) -> dict[str, Any]:
        rows = []
        for (dev, who, rw, _pad), v in bpf_maps.dump_raw(self._dev_map, DEV_KEY_FMT, DEV_VAL_FMT):
            key = (dev, who, rw)
            if self._devs.get(key) == v or who >= len(SOURCES) or rw >= len(KINDS):
                continue
            self._devs[key] = v
            name = self._names.get(dev) or self._names.setdefault(dev, device_name(dev))
            rows.append(
                DiskDevice(
                    device=name,
                    source=SOURCES[who],  # type: ignore[arg-type]
                    kind=KINDS[rw],  # type: ignore[arg-type]
                    ops=v[0],
                    bytes=v[1],
                    done=v[2],
                    latency_ns=v[3],
                    hist=v[4:],
                )
            )
        return {"disks": tuple(sorted(rows, key=lambda r: (r.device, r.source, r.kind)))}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"disk_procs": len(self._rows), "disk_full": kernel["disk_full"]}
