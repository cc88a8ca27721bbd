"""Family "memory": each process's resident memory, its peak and its page faults (``bpf/memory``).

At each change of a process's resident memory (``kmem:rss_stat``, in its own context) and at
each page fault (perf software events), the kernel reads the process's own counters (what
VmRSS and VmHWM are made of) and keeps its peak, per address space (an exec starts a new one,
as VmHWM does). It also keeps the tree's sum at each change, so the peak of the sum is exact.

Its figures are floors under /proc's: the collector shows the larger of the two (/proc read a
while ago may be below; the kernel's count of faults begins when the process is followed, so
for a process seeded while it ran, /proc's count since its start is larger). At exit, the exit
record's figures stand.
"""

from __future__ import annotations

import ctypes as ct
import os
from dataclasses import replace
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf.btf import kernel_offsets
from denet_tui.model import SyscallSummary, TreeMemory

BPF_NOEXIST = 1
PROC_FMT = "QqqQQII"  # struct mem_proc: mm, rss, peak, minor, major, exited, pad
MEM_SUM, MEM_SUM_PEAK, MEM_SEEDED = range(3)  # tree_mem slots of bpf/memory.bpf.h
# Where the running kernel keeps a process's memory counters (bpf/memory.bpf.h).
KERNEL_FIELDS = {
    "TASK_MM": "task_struct.mm",
    "MM_RSS_STAT": "mm_struct.rss_stat",
    "PCPU_COUNT": "percpu_counter.count",
    "PCPU_SIZE": "sizeof percpu_counter",
}
# BCC's names of the perf software events, and the programs they run.
FAULT_PROGRAMS = {
    "PAGE_FAULTS_MIN": b"memory_minor_fault",
    "PAGE_FAULTS_MAJ": b"memory_major_fault",
}
RESIDENT = ("RssAnon:", "RssFile:", "RssShmem:")  # /proc/PID/status, in kB


def _resident_now(pid: int) -> int | None:
    """The process's resident bytes now (the members the kernel sums for VmRSS)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            got = [int(line.split()[1]) for line in f if line.startswith(RESIDENT)]
    except (OSError, ValueError, IndexError):
        return None
    return sum(got) * 1024 if len(got) == len(RESIDENT) else None


class MemoryFamily:
    name = "memory"
    source = "memory"
    # Its figures are lower bounds of the process's own (the collector keeps the larger).
    floors = frozenset({"peak_rss_bytes", "minor_faults", "major_faults"})

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ...]] = {}  # serial -> its entry, as read
        self._ran: set[int] = set()
        self._shown: dict[int, tuple[int, ...]] = {}
        self._seeded: set[int] = set()  # its fault counts began after the process did
        self._seeded_bytes = 0  # what seeded processes had at seeding (tree_mem's MEM_SEEDED)
        self._sum = self._sum_peak = 0

    def defines(self) -> dict[str, int | str]:
        return {**kernel_offsets(KERNEL_FIELDS), "PAGE_BYTES": os.sysconf("SC_PAGE_SIZE")}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._procs = bpf[b"mem_procs"]
        self._tree = bpf[b"tree_mem"]
        from bcc import PerfSWConfig, PerfType

        for event, program in FAULT_PROGRAMS.items():
            try:
                # Every fault on every CPU runs the program; it leaves at once for a task
                # that is not ours.
                bpf.attach_perf_event(
                    ev_type=PerfType.SOFTWARE,
                    ev_config=getattr(PerfSWConfig, event),
                    fn_name=program,
                    sample_period=1,
                )
            except Exception as e:  # BCC raises bare Exception
                raise CollectorError(f"cannot attach to the page-fault events: {e}") from None

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        """A process already running joins: its resident memory now is in the tree's sum
        until its own next change (run mode's gated child is a copy of us: it joins at exec)."""
        if gated:
            return
        self._seeded.add(serial)
        rss = _resident_now(pid)
        if rss is None:
            return  # gone already
        # The seeded part first, so the kernel's sum never lacks what an entry holds.
        self._seeded_bytes += rss
        self._tree[ct.c_int(MEM_SEEDED)] = ct.c_int64(self._seeded_bytes)
        leaf = self._procs.Leaf()
        leaf.rss = rss
        if bpf_maps.update(self._procs, ct.c_uint32(serial), leaf, BPF_NOEXIST) != 0:
            # The kernel was first: its entry holds the whole of it.
            self._seeded_bytes -= rss
            self._tree[ct.c_int(MEM_SEEDED)] = ct.c_int64(self._seeded_bytes)

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        pass  # an ended process's entry stays until it is forgotten

    def begin_live(self, active: set[int]) -> None:
        before = self._rows
        self._rows = {key[0]: value for key, value in bpf_maps.dump_raw(self._procs, "I", PROC_FMT)}
        self._ran = {s for s, v in self._rows.items() if before.get(s) != v}
        tree = [v.value for v in self._tree.values()]
        self._sum = tree[MEM_SUM] + tree[MEM_SEEDED]
        # The sum now is a value the sum had: the peak is at least that.
        self._sum_peak = max(tree[MEM_SUM_PEAK], self._sum)

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of this family is in the per-thread task storage

    def forget(self, serials: list[int]) -> None:
        for serial in serials:
            self._rows.pop(serial, None)
            self._shown.pop(serial, None)
            self._seeded.discard(serial)
        bpf_maps.delete_many(self._procs, [(s,) for s in serials], "I")

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
        _mm, _rss, peak, minor, major, _exited, _pad = row
        out: dict[str, Any] = {"peak_rss_bytes": peak} if peak > 0 else {}
        if serial not in self._seeded:  # followed since it began: its own counts
            out |= {"minor_faults": minor, "major_faults": major}
        return out

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        sampled = totals.rss_sum_peak_bytes
        return replace(totals, rss_sum_peak_bytes=max(sampled or 0, self._sum_peak))

    def snapshot_fields(self) -> dict[str, Any]:
        return {"memory": TreeMemory(rss_sum_bytes=self._sum, rss_sum_peak_bytes=self._sum_peak)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"mem_procs": len(self._rows), "mem_full": kernel["mem_full"]}
