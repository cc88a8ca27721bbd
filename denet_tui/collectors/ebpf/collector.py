"""The eBPF collector: the tree followed in the kernel, the chosen probe families' figures on top.

Per-process CPU, memory and I/O figures come from /proc (``proc_reader``), like every live
collector; the families add theirs (today: exact syscall counts, errors and latency).

What is counted, so that syscall counts equal ``strace -f -c`` on the same command:
  - run mode: from the command's own execve on (the gated child is tracked before it execs,
    but what it does until then is the launcher's);
  - latency on (default): every call on entry, so exit/exit_group (which strace never shows)
    are counted too; errors and time on exit;
  - ``latency=False``: one tracepoint, sys_exit: exit/exit_group are never counted, the
    child's return from fork is not counted again, rt_sigreturn is recognised by its number
    being restored as -1.
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from typing import cast

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf import loader
from denet_tui.collectors.ebpf.families import FAMILIES, Family
from denet_tui.collectors.ebpf.families.base import ProcessFigures
from denet_tui.collectors.ebpf.families.files import FilesFamily
from denet_tui.collectors.ebpf.families.sched import COMPLETE, SchedFamily
from denet_tui.collectors.ebpf.families.syscalls import NR_SLOTS, SyscallsFamily
from denet_tui.collectors.ebpf.layout import (
    DIAG_NAMES,
    TRK_WAIT_EXEC,
    TRK_WAIT_MM,
    task_state_type,
)
from denet_tui.collectors.ebpf.tracker import MAX_PROCS, SETTLE_MAX_NS, Proc, Tracker
from denet_tui.collectors.exit_figures import at_exit, with_kernel_split
from denet_tui.collectors.proc_reader import NEVER_READ, NOT_READ, STATUS_FIGURES, ProcessTable
from denet_tui.collectors.taskstats import exit_diagnostics, exit_family, open_exit_records
from denet_tui.evolve import evolve
from denet_tui.ledger import TreeLedger
from denet_tui.model import (
    EMPTY_SYSCALLS,
    CollectorInfo,
    ProcessSample,
    SignalEvent,
    Snapshot,
    TargetStatus,
    TreeTotals,
)
from denet_tui.process_group import process_of
from denet_tui.target import Target

NO_EXIT_STATUS = "not seen: it did not call exit_group (killed by a signal, most likely)"


def in_tree(events: tuple[SignalEvent, ...], members: set[int]) -> tuple[SignalEvent, ...]:
    """Signal events whose sender or target is a process of the tree that the kernel had
    already let go (a signal sent to a process that has ended), marked so; and a target that
    is a thread of the tree named by its process (the kernel does that with the sched family;
    without it, the thread's /proc entry tells, while the thread lives)."""
    out = []
    for e in events:
        sender = None if e.sender_in_tree is None else e.sender_in_tree or e.sender_pid in members
        target = e.target_in_tree or e.target_pid in members
        if not target and (process := process_of(e.target_pid)) in members:
            e = evolve(e, target_pid=process)
            target = True
        if sender != e.sender_in_tree or target != e.target_in_tree:
            e = evolve(e, sender_in_tree=sender, target_in_tree=target)
        out.append(e)
    return tuple(out)


class EbpfCollector:
    """The process tree from BPF programs on kernel tracepoints, with the chosen families.

    The constructor compiles, loads and attaches the programs (a failure raises CollectorError
    with a one-line reason); ``start`` says which tree to follow; ``close`` detaches and frees
    everything and is safe to call more than once, from any exit path.
    """

    def __init__(
        self,
        latency: bool = True,
        probes: frozenset[str] | None = None,
        detach_later: bool = False,
    ) -> None:
        self.latency = latency
        # At close, the programs are detached by a child process (bpf_maps.cleanup): for the
        # end of a run, not for a collector closed and checked in the same process.
        self.detach_later = detach_later
        chosen = set(FAMILIES) if probes is None else set(probes)
        self.families: list[Family] = [
            SyscallsFamily(latency) if name == "syscalls" else FAMILIES[name]()
            for name in FAMILIES
            if name in chosen
        ]
        # The families that give figures of each process (the others: the tree's, events).
        self._per_process = cast(list[ProcessFigures], [f for f in self.families if f.per_process])
        self._sched = next((f for f in self.families if isinstance(f, SchedFamily)), None)
        names = frozenset(f.name for f in self.families)
        self._floors = frozenset().union(*(f.floors for f in self.families))
        # With the sched and memory families, a process followed from its fork has its
        # switches and peak from the kernel, complete: its status files are not read.
        self._lean = {"sched", "memory"} <= names
        # Families off whose figures a process would have had: each process says why not.
        self._off = [n for n, f in FAMILIES.items() if n not in names and f.per_process]
        counting = "syscalls" in names
        self._exits, self._no_exits = open_exit_records()
        self.info = CollectorInfo(
            name="ebpf",
            syscalls="exact" if counting else None,
            reason="ebpf",
            share_basis=("time" if latency else "count") if counting else None,
            families=dict.fromkeys(sorted(names), "exact") | exit_family(self._exits),
        )
        self._lock = threading.Lock()
        self._target: Target | None = None
        self._t0 = 0.0
        self._clock = 0.0
        self._last: dict[int, ProcessSample] = {}  # last sample of each live process
        self._gone: TargetStatus | None = None  # an attached root's end, as the kernel saw it
        self._by_tgid: dict[int, list[Proc]] | None = None  # per sample: _parent_of's index
        self._table = ProcessTable()
        self._ledger = TreeLedger(self.info.share_basis, exact=True)
        self._ncpu = loader.possible_cpus()
        # Bits for the CPU in a serial; the all-ones value is never a CPU: user space's seeds.
        cpu_bits = max(1, self._ncpu.bit_length())
        self._bpf = loader.load(self.families, cpu_bits)
        try:
            state = task_state_type(names, latency, NR_SLOTS)
            for f in self.families:
                f.bind(self._bpf, state)
            self._tracker = Tracker(self._bpf, cpu_bits, state, self._seeded)
            for f in self.families:
                if isinstance(f, FilesFamily):
                    f.process_of = self._process_of  # (a path's latest process)
            self._diag = self._bpf[b"diag"]
        except Exception as e:  # whatever went wrong, the programs must not stay loaded
            loader.free(self._bpf)
            self._bpf = None
            if isinstance(e, CollectorError):
                raise
            raise CollectorError(f"cannot load the BPF program: {loader.one_line(e, [])}") from None
        self._finalizer = weakref.finalize(self, bpf_maps.cleanup, self._bpf)

    # --- the Collector protocol -------------------------------------------------------------

    def start(self, target: Target) -> None:
        with self._lock:
            if self._bpf is None:
                raise CollectorError("the eBPF collector is closed")
            self._target = target
            if target.mode == "run":
                # The child is forked and waits at the gate: follow it from its execve on
                # (and read it from /proc only then: before, it is a copy of us).
                self._tracker.seed(target.pid, TRK_WAIT_EXEC | TRK_WAIT_MM)
            else:
                self._tracker.seed_tree(target.pid)
                self._table.update(p.tgid for p in self._tracker.procs.values() if not p.exited)
            self._t0 = time.monotonic()
            # Unix time = monotonic time + this; taken once, so a process's times never move.
            self._clock = time.time() - self._t0

    def sample(self) -> Snapshot:
        with self._lock:
            if self._bpf is None or self._target is None:
                raise CollectorError("the eBPF collector is not running")
            t_start = time.perf_counter()
            status = self._target.poll()
            tracker = self._tracker
            tracker.read_procs()
            if (wait := tracker.unsettled_ns()) > 0:
                time.sleep(wait / 1e9)  # a process that just ended: let its threads settle
            known = set(tracker.procs)
            members = {p.tgid for p in tracker.procs.values()}  # ended ones not yet reaped too
            if self._exits is not None:
                self._exits.drain({p.tgid for p in tracker.procs.values()})
            for f in self.families:
                f.read_ended(known)
            if self.families:
                active = tracker.active()
                for f in self.families:
                    f.begin_live(active)
                for serial, tid, words in tracker.live_threads(active):
                    for f in self.families:
                        f.add_thread(serial, tid, words)
            processes = self._processes(status)
            status = self._attached_root_status(status, processes)
            self._reap()
            totals, summary = self._ledger.account(processes)
            if not self.families or self.info.syscalls is None:
                summary = EMPTY_SYSCALLS
            tree: dict = {}
            for f in self.families:
                summary = f.tree(summary)
                totals = f.totals(totals)
                tree.update(f.snapshot_fields())
            if tree.get("signals"):
                tree["signals"] = in_tree(tree["signals"], members)
            return Snapshot(
                **tree,
                t=time.monotonic() - self._t0,
                ts=time.time(),
                target=status,
                processes=processes,
                totals=totals,
                syscalls=summary,
                diagnostics=self._diagnostics(totals, time.perf_counter() - t_start),
            )

    def _attached_root_status(
        self, status: TargetStatus, processes: list[ProcessSample]
    ) -> TargetStatus:
        """An attached root is not our child: its end is "gone" to us, but the kernel saw how
        it ended (its exit_group's code, or the signal that ended it), and so do we."""
        if status.status != "gone":
            return status
        if self._gone is None:
            root = next((p for p in processes if p.pid == status.pid and not p.alive), None)
            if root is None or root.exit_code is None:
                return status
            signal = root.killed_by_signal
            self._gone = TargetStatus(
                pid=status.pid,
                status="killed" if signal else "exited",
                exit_code=root.exit_code,
                signal=signal,
            )
        return self._gone

    def _process_of(self, serial: int) -> tuple[int, str] | None:
        p = self._tracker.procs.get(serial)
        return (p.tgid, p.comm) if p is not None else None

    def _seeded(self, serial: int, pid: int, gated: bool) -> None:
        for f in self.families:
            f.seeded(serial, pid, gated)

    def close(self) -> None:
        with self._lock:
            b, self._bpf = self._bpf, None
            loader.free(b, self.detach_later)
            if self._exits is not None:
                self._exits.close()
            self._finalizer.detach()

    def __enter__(self) -> EbpfCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def program_ids(self) -> list[int]:
        """Kernel ids of our loaded programs (from /proc/self/fdinfo), for cleanup checks."""
        b = self._bpf
        if b is None:
            return []
        ids = []
        for fn in list(b.funcs.values()):
            with contextlib.suppress(OSError, ValueError), open(f"/proc/self/fdinfo/{fn.fd}") as f:
                ids += [int(ln.split()[1]) for ln in f if ln.startswith("prog_id:")]
        return ids

    # --- building the snapshot ----------------------------------------------------------------

    def _reap(self) -> None:
        """Forget processes reported ended a while ago, in the kernel maps and here."""
        due = self._tracker.due_for_reaping()
        if not due:
            return
        for f in self.families:
            f.forget([p.serial for p in due])
        self._tracker.reap(due)

    def _processes(self, status: TargetStatus) -> list[ProcessSample]:
        """The live processes, and those that ended since the last snapshot (once)."""
        tracker = self._tracker
        figured = self._per_process
        self._by_tgid = None  # built again when first asked, this sample
        live = [p for p in tracker.procs.values() if not p.exited]
        lean = {p.tgid for p in live if p.start_ns} if self._lean else ()
        got = self._table.update([p.tgid for p in live], self._asleep(), lean)[0]
        fresh = {s.pid: s for s in got}
        clock = self._clock
        out: list[ProcessSample] = []
        last, self._last = self._last, {}
        for p in tracker.to_report():
            before = last.get(p.serial)
            sections: dict = {}
            if not p.exited and p.tgid in fresh:
                base = fresh[p.tgid]
                if before is not None and base is p.proc:
                    if not any(f.changed(p.serial) for f in figured):
                        # Nothing about it changed (/proc gave the same reading, no family has
                        # anything new): the same sample, cheap to list and to write out.
                        self._last[p.serial] = before
                        out.append(before)
                        continue
                    # The same /proc reading: only the families' sections are new (a sleeper's
                    # time asleep grows).
                    for f in figured:
                        if f.changed(p.serial):
                            sections.update(f.figures(p.serial))
                    sections = self._floored(sections, before, p)
                    sample = _filled(with_kernel_split(evolve(before, **sections), before))
                    self._last[p.serial] = sample
                    out.append(sample)
                    continue
                p.proc = base
            for f in figured:
                sections.update(f.figures(p.serial))
            sections = self._floored(sections, p.proc, p)
            sample = with_kernel_split(self._sample_of(p, clock, status, sections), before)
            if p.exited and not self._settled(p):
                # A thread of it is still on its way out: as last shown, ended next time.
                if before is not None:
                    self._last[p.serial] = before
                    out.append(before)
                continue
            if p.exited:
                if self._exits is not None:
                    # A seeded process (the run root: forked before the compile, its start
                    # is the gate's) is matched by pid alone: it is reported just after it
                    # ended, long before its pid could name another process.
                    start = sample.start_ts if p.start_ns else None
                    rec = self._exits.take(p.tgid, start)
                    if rec is not None:
                        own = self._sched.complete(p.serial) if self._sched is not None else ()
                        why = sample.null_reasons.get("proc")
                        sample = at_exit(sample, rec, why, own, last_exec_known=True)
                p.reported = True
            sample = _filled(sample)
            if not p.exited:
                self._last[p.serial] = sample
            out.append(sample)
        return out

    def _floored(self, sections: dict, seen: ProcessSample | None, p: Proc) -> dict:
        """The families' figures, where one is only a lower bound (``Family.floors``), raised
        to what /proc gave (``seen``) if that is more. The memory a reading saw is another
        program's when the process exec'd since (its name now is not the one read): its peak
        starts anew at an exec. Run mode's command counts from its exec: /proc's counters
        from its fork hold our Python's copy before it (~350 page faults), not a floor."""
        if seen is None:
            return sections
        same_program = seen.name == p.comm
        keys = self._floors.intersection(sections)
        if self._sched is not None and self._sched.from_exec(p.serial):
            keys = keys.difference(COMPLETE)
        for key in keys:
            got = getattr(seen, key)
            if key == "peak_rss_bytes" and not same_program:
                continue
            if got is not None and got > sections[key]:
                sections[key] = got
        # A peak is at least any RSS read (VmHWM's own rule): /proc may read a growing
        # process after the memory family's last change.
        peak, rss = sections.get("peak_rss_bytes"), seen.rss_bytes
        if peak is not None and rss is not None and rss > peak and same_program:
            sections["peak_rss_bytes"] = rss
        return sections

    def _settled(self, p: Proc) -> bool:
        if time.monotonic_ns() - p.exit_ns > SETTLE_MAX_NS:
            return True
        return all(f.settled(p.serial) for f in self._per_process)

    def _asleep(self) -> set[int]:
        """Processes that have not run since the last sample: asleep (S or I) at the last
        reading of /proc, and no syscall since. To wake up, a sleeping task returns from the
        call it sleeps in, which the syscalls family sees (without it, nothing is known)."""
        if not any(f.name == "syscalls" for f in self._per_process):
            return set()
        return {
            p.tgid
            for p in self._tracker.procs.values()
            if not p.exited
            and p.proc is not None
            and p.proc.state in ("S", "I")
            and p.serial in self._last
            and not any(f.ran(p.serial) for f in self._per_process)
        }

    def _sample_of(
        self, p: Proc, clock: float, status: TargetStatus, sections: dict
    ) -> ProcessSample:
        """The process as /proc last saw it (or as the kernel did, if /proc never could), with
        the kernel's start and end times and exit status, and the families' ``sections``."""
        base = p.proc
        target = self._target
        root = target is not None and p.tgid == target.pid
        if p.start_ns:
            start: float | None = round(p.start_ns / 1e9 + clock, 6)
        elif root and target is not None and target.mode == "run":
            # The gate opened: it execs the command now.
            start = round(target.released_ts or self._t0 + clock, 6)
        else:
            start = base.start_ts if base is not None else None
        end_ns = p.exit_ns
        if p.exited and self._sched is not None:
            # Its last switch off a CPU: its exit's teardown (freeing its memory, closing its
            # files), which its CPU time counts, comes after the exit tracepoint.
            end_ns = max(end_ns, self._sched.last_switch_ns(p.serial))
        times: dict = {
            "start_ts": start,
            "end_ts": round(end_ns / 1e9 + clock, 6) if p.exited else None,
            "exit_code": p.exit_status if p.exited else None,
        }
        if p.exited and root and status.finished and target is not None and target.mode == "run":
            # The root's status is ours: its parent's.
            times["exit_code"], times["killed_by_signal"] = status.exit_code, status.signal
        reasons: dict[str, str] = {}
        if p.exited and times["exit_code"] is None:
            reasons["exit_code"] = NO_EXIT_STATUS
        for name in self._off:
            reasons[name] = f"not measured: the {name} probe family is off (--probes)"
        if base is None:
            # Born and gone between two readings of /proc: the kernel saw it, /proc never did.
            gone = NEVER_READ + (f" ({self._no_exits})" if self._no_exits else "")
            return ProcessSample(
                pid=p.tgid,
                ppid=p.ppid,
                name=p.comm,
                cmdline=self._argv(p),
                alive=not p.exited,
                **times,
                **sections,
                null_reasons=({"proc": gone} if p.exited else {}) | reasons,
            )
        extra: dict = {}
        if p.exited:
            extra = {"alive": False, "cpu_percent": 0.0, "rss_bytes": 0, "state": None}
        if p.comm != base.name or not base.cmdline:
            # /proc last saw an earlier program of this process (the gated child before its
            # exec, a shell before `exec`), or none: its command line is not this one's.
            extra["cmdline"] = self._argv(p)
        own = _given_dropped(base.null_reasons, sections.get)  # (one replace, not two)
        if reasons or own is not base.null_reasons:
            extra["null_reasons"] = {**own, **reasons}
        return evolve(
            base,
            pid=p.tgid,
            ppid=p.ppid if p.ppid is not None else base.ppid,
            name=p.comm if p.exited else base.name,
            **times,
            **sections,
            **extra,
        )

    def _argv(self, p: Proc, depth: int = 0) -> tuple[str, ...]:
        """The command line of the process's last exec, as the kernel read it at the exec;
        where it was cut short (or not read), the one we ran if this is the run root still
        running that program. A process that made no exec since we followed it (a fork, a
        subshell) has its parent's: its memory, arguments included, is a copy of it."""
        args, cut = self._tracker.argv(p.serial)
        if args and not cut:
            return args
        started = self._target.started_argv(p.tgid, p.comm) if self._target is not None else ()
        if started:
            return started
        if args:
            return (*args[:-1], args[-1] + "…")
        if args is None and p.start_ns and depth < 16:
            parent = self._parent_of(p)
            if parent is not None:
                return self._argv(parent, depth + 1)
        return ()

    def _parent_of(self, p: Proc) -> Proc | None:
        """The process that forked ``p``, if still known (the latest with its pid that
        started before it). The processes by pid are listed once a sample, when first asked."""
        if self._by_tgid is None:
            self._by_tgid = {}
            for q in self._tracker.procs.values():
                self._by_tgid.setdefault(q.tgid, []).append(q)
        older = [
            q for q in self._by_tgid.get(p.ppid or 0, ()) if q is not p and q.start_ns <= p.start_ns
        ]
        return max(older, key=lambda q: q.start_ns, default=None)

    def _diagnostics(self, totals: TreeTotals, seconds: float) -> dict:
        diag = {name: int(sum(self._diag[ct.c_int(i)])) for i, name in enumerate(DIAG_NAMES)}
        lost = diag["stats_full"] + diag["procs_full"] + diag["storage_fail"]
        out = {
            "lost": lost,
            **{k: diag[k] for k in ("stats_full", "procs_full", "storage_fail")},
            "thread_read_errors": self._tracker.thread_read_errors,
            "tracked_max": MAX_PROCS,
            "kernel_procs": self._tracker.kernel_procs,  # entries in the maps now
            "processes_seen": totals.processes_seen,
            "processes_live": totals.processes_live,
            "latency": self.latency,
            "sample_ms": round(seconds * 1000, 2),
        }
        for f in self.families:
            out.update(f.diagnostics(diag))
        out.update(exit_diagnostics(self._exits, self._no_exits))
        return out


def _given_dropped(reasons: Mapping[str, str], value: Callable[[str], object]) -> Mapping[str, str]:
    """``reasons`` without those for status figures /proc was not asked for (``NOT_READ``)
    that the families have given (``value(key)`` is not None); ``reasons`` itself if none."""
    if reasons.keys().isdisjoint(STATUS_FIGURES):
        return reasons
    kept = {k: why for k, why in reasons.items() if not (why == NOT_READ and value(k) is not None)}
    return reasons if len(kept) == len(reasons) else kept


def _filled(sample: ProcessSample) -> ProcessSample:
    """``sample`` without the reasons for status figures the families have given."""
    kept = _given_dropped(sample.null_reasons, partial(getattr, sample))
    return sample if kept is sample.null_reasons else evolve(sample, null_reasons=kept)
