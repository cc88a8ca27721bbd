"""Family "syscalls": exact counts, errors and latency per process and syscall (``bpf/syscalls``).

Figures of a process come from three places, read in this order each sample so that a thread
is never counted twice (see TRK_FLUSHING in ``bpf/tree.bpf.h``): ``proc_stats`` (ended
threads' arrays summed per process, and ``stats`` for numbers without a slot: drained, each
entry taken out as it is read, and added to what was drained before), then each
live thread's array (through its pidfd, by the collector) of the processes marked active since
the last sample; what was read of the others' threads stands. What reaches ``stats`` after its
process was reported ended and forgotten (a thread still exiting) is counted in
``late_calls``. Latency histograms are kept per syscall for the whole tree; they are attached
to the tree summary, not to each process.
"""

from __future__ import annotations

import ctypes as ct
import os
import time
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf.btf import kernel_offsets
from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.evolve import evolve
from denet_tui.model import ProcessSyscalls, SyscallSummary, SyscallTable
from denet_tui.syscalls import category_of, machine_arch, syscall_name, table

NR_SLOTS = 512  # per-thread array size: every syscall number of x86_64/aarch64 today
HIST_BUCKETS = 36  # 2**35 ns ≈ 34 s; longer calls land in the last bucket
FORGOTTEN_FOR_S = 10.0  # how long entries of a forgotten process are recognised as late
MAX_STATS = 262144  # (process, syscall) pairs of numbers without a slot not yet read
PROC_STATS_FAST = 512  # processes' ended-thread figures between samples, allocated up front
# Register holding the syscall number at sys_exit (struct pt_regs member), per architecture.
NR_REG = {"x86_64": "orig_ax", "aarch64": "syscallno"}
# Registers holding a call's first five arguments at sys_enter (struct pt_regs members), where
# we know them: there the raw programs serve the other families' shared programs. And how a
# 32-bit call (compat) is told: thread_info.status & TS_COMPAT.
ARG_REGS = {"x86_64": ("di", "si", "dx", "r10", "r8")}
TS_COMPAT = {"x86_64": 0x0002}

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


USED_WORDS = NR_SLOTS // 64  # the bitmap of used slots before the counts (thread and process)


def parse_counts(words: memoryview, at: int, latency: bool) -> Counts:
    """The used slots of an array of ``struct counts`` preceded by its bitmap of used slots
    (``USED_WORDS`` u64 words from ``at``)."""
    counts: Counts = {}
    stride = 3 if latency else 2
    base = at + USED_WORDS
    for w in range(USED_WORDS):
        bits = words[at + w]
        while bits:
            low = bits & -bits
            bits ^= low
            nr = w * 64 + low.bit_length() - 1
            i = base + nr * stride
            counts[nr] = [words[i], words[i + 1], words[i + 2] if latency else 0]
    return counts


def covers(counts: Counts, prev: Counts) -> bool:
    """``counts`` are nowhere below ``prev``: ``floored`` would leave them as they are."""
    for nr, (c, e, t) in prev.items():
        v = counts.get(nr)
        if v is None or v[0] < c or v[1] < e or v[2] < t:
            return False
    return True


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
    per_process = True
    floors: frozenset[str] = frozenset()
    shared: tuple[SharedProgram, ...] = ()
    name = "syscalls"
    source = "syscalls"

    def __init__(self, latency: bool = True) -> None:
        self.latency = latency
        self.arch = machine_arch()
        if self.arch not in NR_REG:
            raise CollectorError(f"no syscall table for this architecture ({os.uname().machine})")
        self._names: dict[int, tuple[str, str]] = {}
        # (name, category) of every slot's number, looked up once (hundreds of tables a second)
        self._slot_names = [self._name(nr) for nr in range(NR_SLOTS)]
        self._ended: dict[int, Counts] = {}  # drained from `stats`, per serial, until forgotten
        self._fresh: set[int] = set()  # serials with entries drained at this sample
        self._live: dict[int, Counts] = {}  # live threads, per serial (kept while idle)
        self._shown: dict[int, Counts] = {}  # last figures returned: the floor for the next
        self._sections: dict[int, ProcessSyscalls] = {}  # last section returned, per serial
        # Last parse of each live thread, per serial then tid; of the active processes, the
        # previous one (a thread whose array is unchanged is not parsed again).
        self._threads: dict[int, dict[int, tuple[bytes, Counts]]] = {}
        self._before: dict[int, dict[int, tuple[bytes, Counts]]] = {}
        self._changed: set[int] = set()  # serials with a thread whose array changed
        self._summed: set[int] = set()  # serials whose _live entry is a sum of our own
        self._kernel_stats = 0
        self.late_calls = 0  # calls that reached the kernel maps after their process was shown
        self._forgotten: dict[int, float] = {}  # serial -> when it was forgotten (for a while)

    # -- loading -------------------------------------------------------------------------

    def defines(self) -> dict[str, int | str]:
        nr = {name: number for number, name in table(self.arch).items()}
        out: dict[str, int | str] = {
            "LATENCY": int(self.latency),
            "NR_SLOTS": NR_SLOTS,
            "MAX_STATS": MAX_STATS,
            "PROC_STATS_FAST": PROC_STATS_FAST,
            "HIST_BUCKETS": HIST_BUCKETS,
            # A struct member name from our own table, never from the user.
            "SYSCALL_NR_REG": NR_REG[self.arch],
            # With both raw programs, they hand each call of the other families' shared
            # programs over (tree.bpf.h): no tracepoint per call then.
            "SHARED_RAW": int(self.latency and self.arch in ARG_REGS),
        }
        if out["SHARED_RAW"]:
            out.update({f"SYSCALL_ARG{i}": r for i, r in enumerate(ARG_REGS[self.arch])})
            out.update(kernel_offsets({"TASK_TI_STATUS": "task_struct.thread_info.status"}))
            out["TS_COMPAT"] = TS_COMPAT[self.arch]
        for name in ("rt_sigreturn", "clone", "clone3", "fork", "vfork"):
            out[f"NR_{name.upper()}"] = nr.get(name, -1)  # -1: no such call here
        return out

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._stats = bpf[b"stats"]
        self._proc_stats = (bpf[b"proc_stats"], bpf[b"proc_stats_more"])
        self._hist = bpf[b"hist"]
        self._words = state.sc.offset // 8  # type: ignore[attr-defined]
        # Where its counts end: other families' fields follow them in the thread's state.
        self._end = (state.sc.offset + state.sc.size) // 8  # type: ignore[attr-defined]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # its threads are adopted on their first call

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        self._changed = set()
        latency = self.latency
        rows: list[tuple[int, Counts]] = []
        for ended_map in self._proc_stats:
            for key, value in bpf_maps.dump_bytes(ended_map, delete=True):
                serial = int.from_bytes(key, "little")
                rows.append((serial, parse_counts(memoryview(value).cast("Q"), 0, latency)))
        width = "QQQ" if latency else "QQ"
        for (serial, nr), v in bpf_maps.dump_raw(self._stats, "II", width, delete=True):
            rows.append((serial, {nr: [v[0], v[1], v[2] if latency else 0]}))
        self._kernel_stats = len(rows)
        ended, forgotten = self._ended, self._forgotten
        fresh = self._fresh = set()
        for serial, part in rows:
            if serial in forgotten:
                # Threads that ended after their process was reported ended and forgotten.
                self.late_calls += sum(v[0] for v in part.values())
                continue
            if serial not in ended:
                ended[serial] = part  # its first part, parsed just now: ours to keep as it is
                fresh.add(serial)
                continue
            counts = ended[serial] if serial in fresh else None
            if counts is None:
                # A copy: the last figures handed out may be this very dict (never changed).
                counts = ended[serial] = merged(ended.get(serial))
                fresh.add(serial)
            for nr, (c, e, t) in part.items():
                add(counts, nr, c, e, t)

    def begin_live(self, active: set[int]) -> None:
        self._summed = set()
        live, threads, before = self._live, self._threads, {}
        for serial in active:
            live.pop(serial, None)
            before[serial] = threads.pop(serial, None) or {}
        self._before = before

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        # The thread state as u64 words (ctypes attribute access per slot is far slower): after
        # enter_ns and nr, the bitmap of used slots, then one `struct counts` per number.
        base, end = self._words + 2, self._end
        raw = words[base:end].tobytes()
        cached = self._before[serial].get(tid)
        if cached is not None and cached[0] == raw:
            counts = cached[1]  # it made no call since the last sample: nothing to parse
        else:
            self._changed.add(serial)
            counts = parse_counts(words, base, self.latency)
        self._threads.setdefault(serial, {})[tid] = (raw, counts)
        acc = self._live.get(serial)
        if acc is None:
            self._live[serial] = counts  # the thread's own (cached): read, never changed
        else:
            if serial not in self._summed:
                acc = self._live[serial] = merged(acc)  # a second thread: a sum of our own
                self._summed.add(serial)
            for nr, (c, e, t) in counts.items():
                add(acc, nr, c, e, t)

    def forget(self, serials: list[int]) -> None:
        """These processes were reported ended: drop their kernel entries and what is kept."""
        now = time.monotonic()
        forgotten = self._forgotten  # in the order they were forgotten: the oldest first
        while forgotten and now - next(iter(forgotten.values())) > FORGOTTEN_FOR_S:
            del forgotten[next(iter(forgotten))]
        for serial in serials:
            self._forgotten[serial] = now
            shown = self._shown.pop(serial, None) or {}
            ended = self._ended.pop(serial, None) or {}
            if ended is not shown:  # (most often the very figures shown: nothing came late)
                self.late_calls += max(
                    0, sum(v[0] for v in ended.values()) - sum(v[0] for v in shown.values())
                )
            self._sections.pop(serial, None)
            self._live.pop(serial, None)
            self._threads.pop(serial, None)

    # -- figures -------------------------------------------------------------------------

    def settled(self, serial: int) -> bool:
        return True  # a thread's figures move out at its sched_process_exit (the settle wait)

    def ran(self, serial: int) -> bool:
        return self.changed(serial)

    def changed(self, serial: int) -> bool:
        return serial in self._changed or serial in self._fresh or serial not in self._sections

    def figures(self, serial: int) -> dict[str, Any]:
        ended, live = self._ended.get(serial), self._live.get(serial)
        before = self._shown.get(serial)
        one = None if ended and live else ended or live or {}
        if one is not None and (before is None or covers(one, before)):
            # One source, not below what was shown: its dict as it is (read-only from here on).
            c = self._shown[serial] = one
        else:
            c = self._shown[serial] = floored(merged(ended, live), before)
        section = self._sections.get(serial)
        if section is None or c != before:
            names = self._slot_names
            # name, category, count, errors, time (without latency: unknown), samples
            rows = [
                (*(names[nr] if nr < NR_SLOTS else self._name(nr)), *c[nr], None)
                for nr in sorted(c)
            ]
            if not self.latency:
                rows = [(*r[:4], None, None) for r in rows]
            total = sum(r[2] for r in rows)
            section = self._sections[serial] = ProcessSyscalls(total, SyscallTable(rows))
        return {"syscalls": section}

    def totals(self, totals: Any) -> Any:
        return totals

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        if not self.latency:
            return summary
        hists = self._read_hist(set(summary.by_name))
        by_name = {name: evolve(st, hist=hists.get(name)) for name, st in summary.by_name.items()}
        return evolve(summary, by_name=by_name)

    def snapshot_fields(self) -> dict[str, Any]:
        return {}  # its tree figures are the summary's (``tree``)

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "stats_max": MAX_STATS,
            "kernel_stats": self._kernel_stats,
            "late_calls": self.late_calls,
        }

    def _name(self, nr: int) -> tuple[str, str]:
        got = self._names.get(nr)
        if got is None:
            name = syscall_name(nr, self.arch)
            got = self._names[nr] = (name, category_of(name))
        return got

    def _read_hist(self, names: set[str]) -> dict[str, tuple[int, ...]]:
        """The tree's latency histogram of each syscall in ``names`` (summed over CPUs)."""
        out: dict[str, tuple[int, ...]] = {}
        for nr, (name, _category) in enumerate(self._slot_names):
            if name not in names:
                continue
            buckets = [0] * HIST_BUCKETS
            for cpu_val in self._hist[ct.c_int(nr)]:
                for i, v in enumerate(cpu_val.b):
                    buckets[i] += v
            out[name] = tuple(buckets)
        return out
