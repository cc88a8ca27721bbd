"""Family "memory": each process's peak resident memory, and the tree's summed (``bpf/memory``).

At each change of a process's resident memory (``kmem:rss_stat``, in its own context), the
kernel keeps its size and its peak, per address space (an exec starts a new one, as VmHWM
does), and the tree's sum at each change, so the peak of the sum is exact. (Page faults are
the sched family's: each task's own counters, read at its switches.)

Its peak is a floor under /proc's VmHWM: the collector shows the larger of the two (a process
seeded while it ran peaked before we followed it). At exit, the exit record's figure stands.
"""

from __future__ import annotations

import ctypes as ct
import os
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.btf import kernel_offsets
from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.collectors.proc_reader import read_bytes, status_field
from denet_tui.evolve import evolve
from denet_tui.model import SyscallSummary, TreeMemory

BPF_NOEXIST = 1
PROC_FMT = "Q3qqqII"  # struct mem_proc: mm, member (3), rss, peak, mm_id, serial
PEAK, SERIAL = 5, 7
MEM_SUM, MEM_SUM_PEAK, MEM_SEEDED = range(3)  # tree_mem slots of bpf/memory.bpf.h
# Where the running kernel keeps a process's memory counters (bpf/memory.bpf.h).
KERNEL_FIELDS = {
    "TASK_MM": "task_struct.mm",
    "MM_RSS_STAT": "mm_struct.rss_stat",
    "PCPU_COUNT": "percpu_counter.count",
    "PCPU_SIZE": "sizeof percpu_counter",
}
RESIDENT = (b"\nRssAnon:", b"\nRssFile:", b"\nRssShmem:")  # /proc/PID/status, in kB


def _resident_now(pid: int) -> int | None:
    """The process's resident bytes now (the members the kernel sums for VmRSS)."""
    try:
        data = read_bytes(f"/proc/{pid}/status")
        got = [status_field(data, key) for key in RESIDENT]
    except (OSError, ValueError, IndexError):
        return None
    return None if None in got else sum(got) * 1024  # type: ignore[arg-type]


class MemoryFamily:
    per_process = True
    name = "memory"
    source = "memory"
    # A lower bound of the process's own peak (the collector keeps the larger).
    floors = frozenset({"peak_rss_bytes"})
    shared: tuple[SharedProgram, ...] = ()

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ...]] = {}  # serial -> its entry, as read
        self._tgid: dict[int, int] = {}  # serial -> tgid, of the live entries read
        self._ran: set[int] = set()
        self._shown: dict[int, tuple[int, ...]] = {}
        self._seeded_bytes = 0  # what seeded processes had at seeding (tree_mem's MEM_SEEDED)
        self._sum = self._sum_peak = 0

    def defines(self) -> dict[str, int | str]:
        return {**kernel_offsets(KERNEL_FIELDS), "PAGE_BYTES": os.sysconf("SC_PAGE_SIZE")}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._live = bpf[b"mem_live"]
        self._ended = bpf[b"mem_ended"]
        self._tree = bpf[b"tree_mem"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        """A process already running joins: its resident memory now is in the tree's sum
        until its own next change (run mode's gated child is a copy of us: it joins at exec)."""
        if gated:
            return
        rss = _resident_now(pid)
        if rss is None:
            return  # gone already
        # The seeded part first, so the kernel's sum never lacks what an entry holds.
        self._seeded_bytes += rss
        self._tree[ct.c_int(MEM_SEEDED)] = ct.c_int64(self._seeded_bytes)
        leaf = self._live.Leaf()
        leaf.rss = rss
        leaf.serial = serial
        if bpf_maps.update(self._live, ct.c_uint32(pid), leaf, BPF_NOEXIST) != 0:
            # The kernel was first: its entry holds the whole of it.
            self._seeded_bytes -= rss
            self._tree[ct.c_int(MEM_SEEDED)] = ct.c_int64(self._seeded_bytes)

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        pass  # read with the live ones: an ended process's entry stays until it is forgotten

    def begin_live(self, active: set[int]) -> None:
        before = self._rows
        live = bpf_maps.dump_raw(self._live, "I", PROC_FMT)
        self._tgid = {value[SERIAL]: key[0] for key, value in live}
        self._rows = {value[SERIAL]: value for _, value in live}
        # Ended ones last: a process is in both only if a straggling event of it came late.
        self._rows.update((key[0], v) for key, v in bpf_maps.dump_raw(self._ended, "I", PROC_FMT))
        self._ran = {s for s, v in self._rows.items() if before.get(s) != v}
        tree = [v.value for v in self._tree.values()]
        self._sum = tree[MEM_SUM] + tree[MEM_SEEDED]
        # The sum now is a value the sum had: the peak is at least that.
        self._sum_peak = max(tree[MEM_SUM_PEAK], self._sum)

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of this family is in the per-thread task storage

    def forget(self, serials: list[int]) -> None:
        stray = [(self._tgid[s],) for s in serials if s in self._tgid]
        for serial in serials:
            self._rows.pop(serial, None)
            self._shown.pop(serial, None)
        bpf_maps.delete_many(self._ended, [(s,) for s in serials], "I")
        bpf_maps.delete_many(self._live, stray, "I")

    # -- figures -------------------------------------------------------------------------

    def settled(self, serial: int) -> bool:
        return True

    def ran(self, serial: int) -> bool:
        return serial in self._ran

    def changed(self, serial: int) -> bool:
        return self._rows.get(serial) != self._shown.get(serial)

    def figures(self, serial: int) -> dict[str, Any]:
        row = self._rows.get(serial)
        if row is None:
            return {}  # no change of its memory seen yet
        self._shown[serial] = row
        peak = row[PEAK]
        return {"peak_rss_bytes": peak} if peak > 0 else {}

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        sampled = totals.rss_sum_peak_bytes
        return evolve(totals, rss_sum_peak_bytes=max(sampled or 0, self._sum_peak))

    def snapshot_fields(self) -> dict[str, Any]:
        return {"memory": TreeMemory(rss_sum_bytes=self._sum, rss_sum_peak_bytes=self._sum_peak)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"mem_procs": len(self._rows), "mem_full": kernel["mem_full"]}
