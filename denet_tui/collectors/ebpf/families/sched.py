"""Family "sched": where each process's wall time goes, per thread state (``bpf/sched``).

The kernel keeps a state machine per thread of the tree (``sched_threads``, by tid): closed
intervals on CPU, waiting for a CPU, sleeping and in D state, and the context switches. A
thread ends at its last switch, after its whole exit (freeing its memory is its CPU time too):
its entry becomes final (GONE) and stays until a sample has read it, added it to its
process's ended figures and deleted it, so one read sees each thread once, live or ended. (A
thread whose tid is taken by a new one before that adds its figures to ``sched_ended``.) A
process that ended is reported once none of its threads is still on its way out. The open
interval of each live thread on a CPU, waiting for one or in D state is counted up to the
moment of reading: a thread stuck in D for a minute shows a minute in D, and one running
without a switch shows its time on the CPU (per CPU, the kernel notes which task was switched
in and when). A nap in S is counted when it ends (at the wakeup, or the thread's exit): a
process asleep for an hour adds its hour when it wakes, and until then its figures do not
change, so a thousand idle sleepers cost nothing to report.
"""

from __future__ import annotations

import ctypes as ct
import os
import time
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.btf import BtfError, kernel_offsets
from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.collectors.ebpf.layout import PID_LIMIT
from denet_tui.collectors.taskstats import kernel_split
from denet_tui.model import ProcessSched, TreeSched

CLK_TCK = os.sysconf("SC_CLK_TCK")
MAX_THREADS = 32768  # threads of the tree followed at once
RUNQ_BUCKETS = 36  # 2**35 ns ≈ 34 s
ON_CPU, RUNQ, SLEEP, DISK, UNKNOWN, GONE = range(6)  # SCHED_* of bpf/sched.bpf.h
BPF_NOEXIST = 1
N_SUMS = 10  # struct sched_sums: ns (4), switches (2), faults (2), utime and stime
THREAD_FMT = f"II{1 + 2 * N_SUMS}Q"  # struct sched_thread: serial, state, since, sums, base
SUMS_FMT = f"{N_SUMS}Q"
# The task's own counters the program reads (bpf/sched.bpf.h), where the running kernel has them.
TASK_FIELDS = {
    "TASK_SUM_EXEC": "task_struct.se.sum_exec_runtime",
    "TASK_RUN_DELAY": "task_struct.sched_info.run_delay",
    "TASK_UTIME": "task_struct.utime",
    "TASK_STIME": "task_struct.stime",
    "TASK_NVCSW": "task_struct.nvcsw",
    "TASK_NIVCSW": "task_struct.nivcsw",
    "TASK_MIN_FLT": "task_struct.min_flt",
    "TASK_MAJ_FLT": "task_struct.maj_flt",
    "TASK_SIGNAL": "task_struct.signal",
}
# The split of a process's time the kernel last reported, a floor of its next (kernel_split's
# ``before``): not in a kernel that accounts time natively (s390, powerpc).
PREV_FIELDS = {
    "SIGNAL_PREV_UTIME": "signal_struct.prev_cputime.utime",
    "SIGNAL_PREV_STIME": "signal_struct.prev_cputime.stime",
}
PREV_FMT = "QQ"  # struct sched_prev: utime, stime (ns)

# Per process: ns on CPU, waiting, sleeping, in D; voluntary and involuntary switches; minor
# and major page faults; ns of user and system time by the ticks.
Sums = list[int]


def _add(dst: dict[int, Sums], serial: int, vals: tuple[int, ...] | Sums) -> None:
    got = dst.get(serial)
    if got is None:
        dst[serial] = list(vals)
    else:
        for i, v in enumerate(vals):
            got[i] += v


def _own_counters(pid: int, tid: int) -> tuple[int, ...] | None:
    """The thread's own counters now: ns on CPUs and waiting for one (schedstat), voluntary and
    involuntary switches (status), minor and major faults and user and system ticks (stat);
    what it did before we follow it is left out."""
    where = f"/proc/{pid}/task/{tid}"
    try:
        with open(f"{where}/schedstat") as f:
            on, wait, _ = (int(x) for x in f.read().split())
        with open(f"{where}/status") as f:
            got = dict(line.split(":", 1) for line in f if "ctxt_switches" in line)
        with open(f"{where}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()  # after the name, which may hold spaces
        vol, invol = int(got["voluntary_ctxt_switches"]), int(got["nonvoluntary_ctxt_switches"])
        faults = int(stat[7]), int(stat[9])  # minflt, majflt
        ticks = (int(stat[i]) * 1_000_000_000 // CLK_TCK for i in (11, 12))  # utime, stime
        return on, wait, vol, invol, *faults, *ticks
    except (OSError, ValueError, KeyError, IndexError):
        return None


SPLIT = ("cpu_user_s", "cpu_system_s")
# What `figures` gives of run mode's command (see `complete`).
COMPLETE = (
    "cpu_time_s",
    "cpu_user_s",
    "cpu_system_s",
    "runq_wait_s",
    "ctx_voluntary",
    "ctx_involuntary",
    "minor_faults",
    "major_faults",
)


class SchedFamily:
    per_process = True
    # A process seeded while it ran counts from then (and run mode's root from its gate):
    # /proc's count is more. Its CPU time, waits and switches are /proc's and the exit
    # record's too, which miss the end of each exit: the larger stands. (Its run-queue wait
    # counts ended threads, /proc's only the live ones.)
    floors = frozenset(
        {
            "minor_faults",
            "major_faults",
            "cpu_time_s",
            "runq_wait_s",
            "ctx_voluntary",
            "ctx_involuntary",
        }
    )
    name = "sched"
    source = "sched"
    shared: tuple[SharedProgram, ...] = ()

    def __init__(self) -> None:
        self._gone: dict[int, Sums] = {}  # ended threads' figures taken from their entries
        self._last_switch: dict[int, int] = {}  # serial -> its ended threads' last switch (ns)
        self._folded: dict[int, Sums] = {}  # those the kernel folded instead (`sched_ended`)
        self._ended_new: set[int] = set()  # serials whose ended threads' figures changed
        self._exiting: set[int] = set()  # serials with a thread still live, by the last read
        self._known: set[int] = set()
        self.late = 0  # ended threads whose process had been reported ended already
        self._live: dict[int, Sums] = {}
        self._shown: dict[int, tuple[int, ...]] = {}  # last figures returned: the floor
        self._sections: dict[int, ProcessSched] = {}
        self._threads = 0
        self._memo: dict[int, tuple[int, ...]] = {}
        self._still: set[int] = set()
        self._rows: dict[int, list[tuple]] = {}  # each serial's threads' entries, as read
        self._ran: set[int] = set()  # serials whose entries changed since the last read
        self._unknown_gone: set[tuple[int]] = set()  # ended threads of processes not yet read
        self._just_forgotten: set[int] = set()  # serials forgotten at the last sample
        self._forgotten_last: set[int] = set()  # those, as read_ended found them
        self._seeded: set[int] = set()  # serials followed since a seeding, not from a fork
        self._from_exec: set[int] = set()  # run mode's command: from its exec
        self._prev: dict[int, tuple[float, float]] = {}  # serial -> sched_prev, in seconds

    def defines(self) -> dict[str, int | str]:
        try:
            prev = kernel_offsets(PREV_FIELDS)
        except BtfError:
            prev = dict.fromkeys(PREV_FIELDS, -1)
        return {
            "MAX_THREADS": MAX_THREADS,
            "RUNQ_BUCKETS": RUNQ_BUCKETS,
            **kernel_offsets(TASK_FIELDS),
            **prev,
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._threads_map = bpf[b"sched_threads"]
        self._bits = bpf_maps.PidBits(bpf, "sched_bits", PID_LIMIT)
        self._ended_map = bpf[b"sched_ended"]
        self._prev_map = bpf[b"sched_prev"]
        self._cpu = bpf[b"sched_cpu"]
        self._hist = bpf[b"runq_hist"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        """A process user space put in the tree: its threads' time on and waiting for a CPU and
        their switches count from now (their counters now are the base); asleep and D from
        their next switch. ``gated``: run mode's child, which counts from its exec (the kernel
        takes the base again then) as a child does from its fork."""
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            return  # gone already
        for tid in tids:
            base = _own_counters(pid, tid)
            if base is None:
                continue  # the thread is gone
            leaf = self._threads_map.Leaf()
            leaf.serial = serial
            leaf.state = UNKNOWN
            b = leaf.base
            (
                b.ns[ON_CPU], b.ns[RUNQ], b.voluntary, b.involuntary,
                b.minor_faults, b.major_faults, b.utime, b.stime,
            ) = base  # fmt: skip
            # NOEXIST: a thread the kernel already follows keeps what it has (and its bit).
            self._bits.set(tid, True)  # first: its switches are looked up once it is there
            failed = bpf_maps.update(self._threads_map, ct.c_uint32(tid), leaf, BPF_NOEXIST)
            if failed:
                self._bits.set(tid, False)
            # Run mode's child counts from its exec only if the kernel has its entry to take
            # the base again then (a full map: it is a seeded process like another).
            (self._from_exec if gated and not failed else self._seeded).add(serial)

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        # Totals, kept by the kernel (rare: threads whose tid was reused before we took them).
        old = self._folded
        rows = bpf_maps.dump_raw(self._ended_map, "I", SUMS_FMT)
        # Others: a process born since `procs` was read, or one forgotten. A process forgotten
        # at the last sample may have had a thread folded after that sample's read (until its
        # `procs` entry went, just after): late, and taken out now (none can come after).
        late = [key for key, _v in rows if key[0] in self._just_forgotten]
        self.late += len(late)
        bpf_maps.delete_many(self._ended_map, late, "I")
        self._forgotten_last, self._just_forgotten = self._just_forgotten, set()
        self._folded = {key[0]: list(v) for key, v in rows if key[0] in known}
        self._ended_new = {s for s, v in self._folded.items() if old.get(s) != v}
        self._known = known

    def begin_live(self, active: set[int]) -> None:
        # Every live thread, idle or not: an idle one's open interval may grow.
        rows = bpf_maps.dump_raw(self._threads_map, "I", THREAD_FMT)
        # After the threads: a thread seen ended has its process's split written already. One
        # written after its process was forgotten at the last sample (just before its `procs`
        # entry went) goes now.
        prev = bpf_maps.dump_raw(self._prev_map, "I", PREV_FMT)
        late = [key for key, _v in prev if key[0] in self._forgotten_last]
        bpf_maps.delete_many(self._prev_map, late, "I")
        self._prev = {
            key[0]: (user / 1e9, system / 1e9)
            for key, (user, system) in prev
            if key[0] not in self._forgotten_last
        }
        now = time.monotonic_ns()  # bpf_ktime_get_ns's clock
        on_cpu = {c.tid: c.since for c in self._cpu[ct.c_int(0)] if c.since}
        raw: dict[int, list[tuple]] = {}
        gone: list[tuple[int]] = []
        unknown, self._unknown_gone = self._unknown_gone, set()
        for key, value in rows:
            if value[1] == GONE:  # ended: its figures are final; take them once
                if value[0] in self._known:
                    gone.append(key)
                    _add(self._gone, value[0], value[3 : 3 + N_SUMS])
                    self._last_switch[value[0]] = max(self._last_switch.get(value[0], 0), value[2])
                    self._ended_new.add(value[0])
                elif key in unknown:
                    gone.append(key)
                    self.late += 1  # its process was reported ended without it
                else:
                    # Its process began and ended since `procs` was read: taken next time.
                    self._unknown_gone.add(key)
                continue
            raw.setdefault(value[0], []).append((key, value))
        bpf_maps.delete_many(self._threads_map, gone, "I")
        for (tid,) in gone:
            self._bits.set(tid, False)  # (set only if seeded; the kernel cleared its own)
        self._exiting = set(raw)
        before, last_live, still = self._rows, self._live, self._still
        # A thread that switched, woke, began or ended changed its entry; an idle one did not.
        self._ran = {s for s, r in raw.items() if before.get(s) != r} | (before.keys() - raw.keys())
        self._rows = raw
        live: dict[int, Sums] = {}
        self._still = set()  # serials with no interval in progress that counts (all asleep)
        for serial, threads in raw.items():
            if serial in still and serial not in self._ran:
                live[serial] = last_live[serial]  # asleep, untouched: the same sums
                self._still.add(serial)
                continue
            quiet = True
            for (tid,), (_s, state, since, on, runq, sleep, disk, *counts) in threads:
                ns = [on, runq, sleep, disk]
                went_in = on_cpu.get(tid)
                if went_in is not None:  # on a CPU now, since `went_in`
                    if state == RUNQ and since <= went_in:
                        ns[RUNQ] += went_in - since
                    ns[ON_CPU] += max(0, now - went_in)
                    quiet = False
                elif state in (RUNQ, DISK) and since:
                    # Waiting and D count up to now (a thread stuck in D shows it at once); a
                    # nap in S is counted when it ends, so an idle sleeper's figures stay the
                    # same and cost nothing to report.
                    ns[state] += max(0, now - since)
                    quiet = False
                _add(live, serial, (*ns, *counts[: N_SUMS - 4]))  # switches, faults, ticks
            if quiet:
                self._still.add(serial)
        self._live = live
        self._memo = {}  # this sample's sums, once each
        self._threads = len(rows)

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of this family is in the per-thread task storage

    def forget(self, serials: list[int]) -> None:
        # Only the entries read at this sample: few processes have one (a missing key costs
        # the batch delete a call of its own); one folded since is taken at the next read.
        had = [(s,) for s in serials if s in self._folded]
        prev = [(s,) for s in serials if s in self._prev]
        self._just_forgotten.update(serials)
        for serial in serials:
            self._gone.pop(serial, None)
            self._last_switch.pop(serial, None)
            self._folded.pop(serial, None)
            self._rows.pop(serial, None)
            self._shown.pop(serial, None)
            self._sections.pop(serial, None)
            self._seeded.discard(serial)
            self._from_exec.discard(serial)
        bpf_maps.delete_many(self._ended_map, had, "I")
        bpf_maps.delete_many(self._prev_map, prev, "I")

    # -- figures -------------------------------------------------------------------------

    def _sums(self, serial: int) -> tuple[int, ...]:
        memo = self._memo.get(serial)
        if memo is not None:
            return memo
        got = [0] * N_SUMS
        for part in (self._folded.get(serial), self._gone.get(serial), self._live.get(serial)):
            if part:
                got = [a + b for a, b in zip(got, part, strict=True)]
        before = self._shown.get(serial)
        if before is not None:
            got = [max(a, b) for a, b in zip(got, before, strict=True)]
        memo = self._memo[serial] = tuple(got)
        return memo

    def settled(self, serial: int) -> bool:
        return serial not in self._exiting

    def last_switch_ns(self, serial: int) -> int:
        """When the (ended) process's last thread left a CPU for good (bpf_ktime_get_ns; 0 if
        not seen): after its exit's teardown, which its CPU time counts."""
        return self._last_switch.get(serial, 0)

    def ran(self, serial: int) -> bool:
        return serial in self._ran or serial in self._ended_new

    def changed(self, serial: int) -> bool:
        if serial in self._still and serial not in self._ran and serial not in self._ended_new:
            return serial not in self._shown  # asleep and untouched: as last shown
        return self._sums(serial) != self._shown.get(serial)

    def from_exec(self, serial: int) -> bool:
        """Run mode's command: its figures count from its exec, not from its fork."""
        return serial in self._from_exec

    def complete(self, serial: int) -> tuple[str, ...]:
        """The figures of this family that are better than the process's exit record's
        (``exit_figures.at_exit``), which count from its fork: for run mode's command, every
        one (they count from its exec: the record holds our Python's copy before it); for a
        process followed from its fork, the user/system split (to its last switch; the rest
        is the larger of the two, which a thread the family lost cannot lower); none for a
        process seeded later."""
        if serial in self._from_exec:
            return COMPLETE
        return () if serial in self._seeded else SPLIT

    def figures(self, serial: int) -> dict[str, Any]:
        sums = self._sums(serial)
        section = self._sections.get(serial)
        if section is None or sums != self._shown.get(serial):
            on, runq, sleep, disk, vol, invol = sums[:6]
            section = self._sections[serial] = ProcessSched(
                on_cpu_s=on / 1e9,
                waiting_cpu_s=runq / 1e9,
                sleeping_s=sleep / 1e9,
                uninterruptible_s=disk / 1e9,
                voluntary_switches=vol,
                involuntary_switches=invol,
            )
            self._shown[serial] = sums
        # Faults: the threads' own counts, like switches (from when each is followed).
        out = {
            "sched": section,
            "cpu_time_s": section.on_cpu_s,
            "runq_wait_s": section.waiting_cpu_s,
            "ctx_voluntary": section.voluntary_switches,
            "ctx_involuntary": section.involuntary_switches,
            "minor_faults": sums[6],
            "major_faults": sums[7],
        }
        if serial not in self._seeded:
            # The exact time on CPU split by the ticks, as the kernel splits it for getrusage
            # and wait4, to each thread's last switch: the ticks of the exit's teardown are
            # system time, which the exit record (written before it) misses.
            # (Never below the split shown before either: the collector's with_kernel_split.)
            out["cpu_user_s"], out["cpu_system_s"] = kernel_split(
                section.on_cpu_s,
                sums[8] / 1e9,
                sums[9] / 1e9,
                # (The kernel's last split counts from the fork: no floor of one from the exec.)
                (0, 0) if serial in self._from_exec else self._prev.get(serial, (0, 0)),
            )
        return out

    def tree(self, summary: Any) -> Any:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals

    def snapshot_fields(self) -> dict[str, Any]:
        buckets = []
        for i in range(RUNQ_BUCKETS):
            buckets.append(sum(self._hist[ct.c_int(i)]))
        return {"sched": TreeSched(runq_hist=tuple(buckets))}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "sched_threads": self._threads,
            "sched_threads_max": MAX_THREADS,
            "sched_full": kernel["sched_full"],  # figures lost: a map full
            # Naps whose wakeup the program did not see: closed at the next switch, exact.
            "sched_naps_unwoken": kernel["sched_naps_unwoken"],
            # Threads that ended after their process was reported ended: their last bit missing.
            "sched_late": kernel["sched_late"] + self.late,
        }
