"""Family "syscalls": exact counts, errors and latency per process and syscall (``bpf/syscalls``).

Figures of a process come from three places, read in this order each sample so that a thread
is never counted twice (see TRK_FLUSHING in ``bpf/tree.bpf.h``): ``stats`` (ended threads),
then each live thread's array (through its pidfd, by the collector), plus what was taken out of
the kernel for processes reaped earlier. Latency histograms are kept per syscall for the whole
tree; they are attached to the tree summary, not to each process.
"""

from __future__ import annotations

import ctypes as ct
import os
from dataclasses import replace
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.model import ProcessSample, SyscallStat, SyscallSummary
from denet_tui.syscalls import category_of, machine_arch, syscall_name, table

NR_SLOTS = 512  # per-thread array size: every syscall number of x86_64/aarch64 today
HIST_BUCKETS = 36  # 2**35 ns ≈ 34 s; longer calls land in the last bucket
MAX_STATS = 262144  # (process, syscall) pairs of ended threads not yet read
# Register holding the syscall number at sys_exit (struct pt_regs member), per architecture.
NR_REG = {"x86_64": "orig_ax", "aarch64": "syscallno"}

# Per-syscall figures of one process: syscall number -> [count, errors, time_ns].
Counts = dict[int, list[int]]


def add(dst: Counts, nr: int, count: int, errors: int, time_ns: int) -> None:
    v = dst.get(nr)
    if v is None:
        dst[nr] = [count, errors, time_ns]
    else:
        v[0] += count
        v[1] += errors
        v[2] += time_ns


def merged(*parts: Counts | None) -> Counts:
    out: Counts = {}
    for part in parts:
        if part:
            for nr, (c, e, t) in part.items():
                add(out, nr, c, e, t)
    return out


def floored(counts: Counts, prev: Counts | None) -> Counts:
    """Never below what was shown before: a thread ending between our two reads is missed for
    one sample (never counted twice), and the true counters only grow."""
    if prev:
        for nr, old in prev.items():
            v = counts.setdefault(nr, [0, 0, 0])
            for i in range(3):
                if v[i] < old[i]:
                    v[i] = old[i]
    return counts


class SyscallsFamily:
    name = "syscalls"
    source = "syscalls"

    def __init__(self, latency: bool = True) -> None:
        self.latency = latency
        self.arch = machine_arch()
        if self.arch not in NR_REG:
            raise CollectorError(f"no syscall table for this architecture ({os.uname().machine})")
        self._names: dict[int, tuple[str, str]] = {}
        self._ended: dict[int, Counts] = {}  # this sample's `stats`, per serial
        self._live: dict[int, Counts] = {}  # this sample's live threads, per serial
        self._stat_keys: dict[int, list[tuple[int, int]]] = {}
        self._reaped: dict[int, Counts] = {}  # taken out of the kernel at reaping
        self._shown: dict[int, Counts] = {}  # last figures returned: the floor for the next
        self._kernel_stats = 0

    # -- loading -------------------------------------------------------------------------

    def defines(self) -> dict[str, int | str]:
        nr = {name: number for number, name in table(self.arch).items()}
        out: dict[str, int | str] = {
            "LATENCY": int(self.latency),
            "NR_SLOTS": NR_SLOTS,
            "MAX_STATS": MAX_STATS,
            "HIST_BUCKETS": HIST_BUCKETS,
            # A struct member name from our own table, never from the user.
            "SYSCALL_NR_REG": NR_REG[self.arch],
        }
        for name in ("rt_sigreturn", "clone", "clone3", "fork", "vfork"):
            out[f"NR_{name.upper()}"] = nr.get(name, -1)  # -1: no such call here
        return out

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._stats = bpf[b"stats"]
        self._hist = bpf[b"hist"]
        self._words = state.sc.offset // 8  # type: ignore[attr-defined]

    # -- reading -------------------------------------------------------------------------

    def read_ended(self) -> None:
        self._ended, self._live, self._stat_keys = {}, {}, {}
        rows = bpf_maps.dump_raw(self._stats, "II", "QQQ" if self.latency else "QQ")
        self._kernel_stats = len(rows)
        for (serial, nr), v in rows:
            add(self._ended.setdefault(serial, {}), nr, v[0], v[1], v[2] if self.latency else 0)
            self._stat_keys.setdefault(serial, []).append((serial, nr))

    def add_thread(self, serial: int, words: memoryview) -> None:
        # The thread state as u64 words (ctypes attribute access per slot is far slower): the
        # counts start after enter_ns and nr/dropped, one `struct counts` per syscall number.
        base = self._words + 2
        stride = 3 if self.latency else 2
        acc = self._live.setdefault(serial, {})
        for nr, c in enumerate(words[base::stride]):
            if c:
                at = base + nr * stride
                add(acc, nr, c, words[at + 1], words[at + 2] if self.latency else 0)

    def pending(self, serial: int) -> bool:
        return serial in self._stat_keys

    def reap(self, serials: list[int]) -> None:
        doomed: list[tuple[int, int]] = []
        for serial in serials:
            # A late thread of an ended process may still add to `stats`: merge it in too.
            self._reaped[serial] = merged(self._reaped.get(serial), self._ended.pop(serial, None))
            doomed += self._stat_keys.pop(serial, [])
        bpf_maps.delete_many(self._stats, doomed)

    # -- figures -------------------------------------------------------------------------

    def figures(self, serial: int, sample: ProcessSample) -> ProcessSample:
        counts = merged(self._reaped.get(serial), self._ended.get(serial), self._live.get(serial))
        c = self._shown[serial] = floored(counts, self._shown.get(serial))
        by_name: dict[str, SyscallStat] = {}
        for nr in sorted(c):
            count, errors, time_ns = c[nr]
            name, category = self._name(nr)
            by_name[name] = SyscallStat(
                category=category,
                count=count,
                errors=errors,
                time_ns=time_ns if self.latency else None,
            )
        total = sum(v[0] for v in c.values())
        reasons = {k: v for k, v in sample.null_reasons.items() if k != "syscalls"}
        return replace(sample, syscalls=total, syscalls_by_name=by_name, null_reasons=reasons)

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        if not self.latency:
            return summary
        hists = self._read_hist(set(summary.by_name))
        by_name = {name: replace(st, hist=hists.get(name)) for name, st in summary.by_name.items()}
        return replace(summary, by_name=by_name)

    def diagnostics(self) -> dict[str, Any]:
        return {"stats_max": MAX_STATS, "kernel_stats": self._kernel_stats}

    def _name(self, nr: int) -> tuple[str, str]:
        got = self._names.get(nr)
        if got is None:
            name = syscall_name(nr, self.arch)
            got = self._names[nr] = (name, category_of(name))
        return got

    def _read_hist(self, names: set[str]) -> dict[str, tuple[int, ...]]:
        """The tree's latency histogram of each syscall in ``names`` (summed over CPUs)."""
        out: dict[str, tuple[int, ...]] = {}
        for nr in range(NR_SLOTS):
            name = self._name(nr)[0]
            if name not in names:
                continue
            buckets = [0] * HIST_BUCKETS
            for cpu_val in self._hist[ct.c_int(nr)]:
                for i, v in enumerate(cpu_val.b):
                    buckets[i] += v
            out[name] = tuple(buckets)
        return out
