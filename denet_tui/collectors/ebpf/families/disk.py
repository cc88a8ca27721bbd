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
from denet_tui.collectors.ebpf.families.base import ProcessEntries
from denet_tui.model import DiskDevice, ProcessDisk

DISK_BUCKETS = 40  # log2 ns: up to ~9 minutes
MAX_INFLIGHT = 16384  # requests between their start and their end
PROC_FMT = "QQQQ"  # struct disk_proc_val: read ops, read bytes, write ops, write bytes
DEV_KEY_FMT = "IIII"  # struct disk_dev_key: dev, who, rw, pad
DEV_VAL_FMT = "QQQQQ" + "Q" * DISK_BUCKETS  # ops, bytes, done, lat_ns, merged, hist
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


class DiskFamily(ProcessEntries):
    name = "disk"
    source = "disk"
    map_name = b"disk_procs"
    value_fmt = PROC_FMT
    section = "disk"

    def __init__(self) -> None:
        super().__init__()
        self._devs: dict[tuple[int, int, int], tuple[int, ...]] = {}  # as last reported
        self._names: dict[int, str] = {}

    def defines(self) -> dict[str, int | str]:
        return {
            **kernel_offsets({"TASK_FLAGS": "task_struct.flags"}),
            "DISK_BUCKETS": DISK_BUCKETS,
            "MAX_INFLIGHT": MAX_INFLIGHT,
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        super().bind(bpf, state)
        self._dev_map = bpf[b"disk_devs"]

    def make_section(self, row: tuple[int, ...]) -> ProcessDisk:
        return ProcessDisk(*row)

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
                    merged=v[4],
                    hist=v[5:],
                )
            )
        return {"disks": tuple(sorted(rows, key=lambda r: (r.device, r.source, r.kind)))}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"disk_procs": len(self._rows), "disk_full": kernel["disk_full"]}
