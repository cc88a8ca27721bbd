"""The /proc collector: exact per-process figures, plus sampled estimates of syscall shares and
of the threads' time asleep and in D."""

from __future__ import annotations

import time

from denet_tui.collectors.exit_figures import at_exit, only_at_exit
from denet_tui.collectors.held_files import HeldFiles
from denet_tui.collectors.held_sockets import HeldSockets
from denet_tui.collectors.proc_reader import ProcessTable
from denet_tui.collectors.programs_seen import ProgramsSeen
from denet_tui.collectors.syscall_sampler import CPU_BUDGET, SyscallSampler
from denet_tui.collectors.taskstats import exit_diagnostics, exit_family, open_exit_records
from denet_tui.collectors.tree_scan import TreeScanner
from denet_tui.evolve import evolve
from denet_tui.ledger import TreeLedger
from denet_tui.model import (
    CollectorInfo,
    ProcessSample,
    ProcessSched,
    ProcessSyscalls,
    Snapshot,
    SyscallTable,
)
from denet_tui.syscalls import category_of, syscall_name
from denet_tui.target import Target

NO_EXIT_STATUS = "/proc does not tell a process's exit status to anyone but its parent"
NO_END_TIME = "/proc does not tell when a process ended: it was gone at the next reading"
NOT_SAMPLED = "the thread sampler never read it (it ended first): time asleep and in D unknown"
NO_SCHED_BASE = "its CPU time, run-queue wait or switches could not be read from /proc"


def sched_section(p: ProcessSample, off_cpu: tuple[float, float] | None) -> ProcessSched | None:
    """``p``'s time states: on a CPU and waiting for one from /proc (schedstat, exact), asleep
    and in D as the sampler estimated them (``off_cpu``; None: never sampled); None if a
    figure from /proc is missing."""
    on, runq, vol, invol = p.cpu_time_s, p.runq_wait_s, p.ctx_voluntary, p.ctx_involuntary
    if on is None or runq is None or vol is None or invol is None:
        return None
    return ProcessSched(
        on_cpu_s=on,
        waiting_cpu_s=runq,
        sleeping_s=None if off_cpu is None else off_cpu[0],
        uninterruptible_s=None if off_cpu is None else off_cpu[1],
        voluntary_switches=vol,
        involuntary_switches=invol,
    )


NO_BLOCK = (
    "/proc does not count block requests per process (see read_bytes and write_bytes: the "
    "storage layer's bytes from /proc/PID/io); the eBPF disk family does"
)
NO_NET = (
    "/proc has no per-process network counter (/proc/PID/net/dev is the whole network "
    "namespace's); the eBPF network family counts each process's sockets"
)


class ProcfsCollector:
    def __init__(self, sample_hz: float = 100.0, cpu_budget: float = CPU_BUDGET) -> None:
        self._exits, self._no_exits = open_exit_records()
        self.info = CollectorInfo(
            name="procfs",
            syscalls="sampled",
            reason="",
            share_basis="samples",
            families={"syscalls": "sampled", "sched": "sampled", "exec": "sampled"}
            | {"files": "sampled", "network": "sampled"}
            | exit_family(self._exits),
        )
        self._sampler = SyscallSampler(rate_hz=sample_hz, cpu_budget=cpu_budget)
        self._table = ProcessTable()
        self._programs = ProgramsSeen()
        self._held = HeldFiles()
        self._sockets = HeldSockets()
        self._ledger = TreeLedger("samples", exact=False)
        # pid -> (its hits and time states, its syscalls section, the reading and the sample
        # made of them)
        self._hit_sections: dict[
            int,
            tuple[
                tuple[dict[int, int], tuple[float, float] | None],
                ProcessSyscalls,
                ProcessSample | None,
                ProcessSample | None,
            ],
        ] = {}
        self._target: Target | None = None
        self._scanner: TreeScanner | None = None
        self._t0 = 0.0
        self._started_ts = 0.0  # unix time of start(): a run root's start (the gate)

    def start(self, target: Target) -> None:
        self._target = target
        group = target.pid if target.mode == "run" else None
        self._scanner = TreeScanner(target.pid, group)
        pids = self._scanner.scan()
        if target.mode != "run":  # (a gated child is a copy of us until its exec: not read)
            self._table.update(pids)  # baseline, so the first snapshot already has CPU %
        # The sampler's own scanner: it lists the tree ten times as often, from its thread.
        self._sampler.follow(TreeScanner(target.pid, group).scan)
        self._t0 = time.monotonic()
        self._started_ts = time.time()
        self._sampler.start()

    def sample(self) -> Snapshot:
        assert self._target is not None and self._scanner is not None, "start() first"
        # Status first: a target seen finished here is read below as the zombie it is.
        status = self._target.poll()
        pids = self._scanner.scan()
        hits, off_cpu = self._sampler.hits(), self._sampler.off_cpu()
        live, ended = self._table.update(pids)
        if self._exits is not None:
            self._exits.drain({*pids, *(p.pid for p in ended)})
            ended = [self._at_exit(p) for p in ended]
            # Born and gone between two readings: seen only by their exit records.
            unseen = self._exits.children_of({*pids, *(p.pid for p in ended)})
            ended += [only_at_exit(rec) for rec in unseen]
        processes = [
            self._with_hits(p, hits, off_cpu, self._target.started_argv(p.pid, p.name))
            for p in (*live, *ended)
        ]
        self._sampler.forget([p.pid for p in ended])
        gone = [p.pid for p in ended]
        execs = self._programs.update(live, gone)
        files = self._held.update(live, gone)
        connections = self._sockets.update(live)
        totals, summary = self._ledger.account(processes)
        return Snapshot(
            t=time.monotonic() - self._t0,
            ts=time.time(),
            target=status,
            processes=processes,
            execs=execs,
            files=files,
            connections=connections,
            totals=totals,
            syscalls=summary,
            diagnostics=self._sampler.stats().to_dict()
            | {"files_paths_left_out": self._held.left_out}
            | {"connections_left_out": self._sockets.left_out}
            | exit_diagnostics(self._exits, self._no_exits),
        )

    def close(self) -> None:
        self._sampler.stop()
        if self._exits is not None:
            self._exits.close()

    def _at_exit(self, p: ProcessSample) -> ProcessSample:
        """An ended process with its exit record's figures, if one came."""
        assert self._exits is not None
        rec = self._exits.take(p.pid, p.start_ts)
        return p if rec is None else at_exit(p, rec, None)

    def _with_hits(
        self,
        p: ProcessSample,
        hits: dict[int, dict[int, int]],
        off_cpu: dict[int, tuple[float, float]],
        started: tuple[str, ...],
    ) -> ProcessSample:
        """``p`` with its sampled syscalls and time states (and, if /proc had none, the command
        line we started). Unchanged (the same reading, the same table and states): the same
        object as before, cheap to count and to write out."""
        mine = hits.get(p.pid) or {}
        states = off_cpu.get(p.pid)
        cached = self._hit_sections.get(p.pid)
        if cached is not None and cached[0] == (mine, states):
            section = cached[1]
            if p.alive and cached[2] is p and cached[3] is not None:
                return cached[3]
        else:
            rows = []
            for nr, n in mine.items():
                name = syscall_name(nr)
                rows.append((name, category_of(name), None, None, None, n))
            section = ProcessSyscalls(count=None, by_name=SyscallTable(rows))
        if not p.alive:
            self._hit_sections.pop(p.pid, None)
        reasons = dict(p.null_reasons)
        reasons["syscalls"] = "/proc cannot count every syscall; see syscalls.by_name samples"
        reasons["network"] = NO_NET
        reasons["disk"] = NO_BLOCK
        sched = sched_section(p, states)
        if sched is None:
            reasons["sched"] = NO_SCHED_BASE
        elif states is None:
            reasons["sleeping_s"] = reasons["uninterruptible_s"] = NOT_SAMPLED
        target = self._target
        if target is not None and p.pid == target.pid and target.mode == "run":
            # Its start is the gate's: it was forked before the screen and waited there (as
            # the eBPF collector counts it).
            gate = target.released_ts or self._started_ts
            p = evolve(p, start_ts=round(max(p.start_ts or 0.0, gate), 6))
        if target is not None and p.pid == target.pid and not p.alive:
            status = target.poll()  # the root's status: ours, as its parent
            if status.finished and status.exit_code is not None:
                p = evolve(p, exit_code=status.exit_code, killed_by_signal=status.signal)
        if p.exit_code is None:
            reasons.setdefault("exit_code", NO_EXIT_STATUS)
        if not p.alive:
            reasons.setdefault("end_ts", NO_END_TIME)
        out = evolve(
            p, cmdline=p.cmdline or started, syscalls=section, sched=sched, null_reasons=reasons
        )
        if p.alive:
            self._hit_sections[p.pid] = ((dict(mine), states), section, p, out)
        return out
