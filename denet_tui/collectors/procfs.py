"""The /proc collector: exact per-process figures, plus a sampled estimate of syscall shares."""

from __future__ import annotations

import time
from dataclasses import replace

from denet_tui.collectors.proc_reader import ProcessTable
from denet_tui.collectors.syscall_sampler import CPU_BUDGET, SyscallSampler
from denet_tui.collectors.taskstats import (
    at_exit,
    exit_diagnostics,
    exit_family,
    only_at_exit,
    open_exit_records,
)
from denet_tui.collectors.tree_scan import TreeScanner
from denet_tui.ledger import TreeLedger
from denet_tui.model import (
    CollectorInfo,
    ProcessSample,
    ProcessSyscalls,
    Snapshot,
    SyscallTable,
)
from denet_tui.syscalls import category_of, syscall_name
from denet_tui.target import Target

NO_EXIT_STATUS = "/proc does not tell a process's exit status to anyone but its parent"
NO_END_TIME = "/proc does not tell when a process ended: it was gone at the next reading"


class ProcfsCollector:
    def __init__(self, sample_hz: float = 100.0, cpu_budget: float = CPU_BUDGET) -> None:
        self._exits, self._no_exits = open_exit_records()
        self.info = CollectorInfo(
            name="procfs",
            syscalls="sampled",
            reason="",
            share_basis="samples",
            families={"syscalls": "sampled"} | exit_family(self._exits),
        )
        self._sampler = SyscallSampler(rate_hz=sample_hz, cpu_budget=cpu_budget)
        self._table = ProcessTable()
        self._ledger = TreeLedger("samples", exact=False)
        # pid -> (its hits, its section, the reading and the sample made of them)
        self._hit_sections: dict[
            int, tuple[dict[int, int], ProcessSyscalls, ProcessSample | None, ProcessSample | None]
        ] = {}
        self._target: Target | None = None
        self._scanner: TreeScanner | None = None
        self._t0 = 0.0

    def start(self, target: Target) -> None:
        self._target = target
        self._scanner = TreeScanner(target.pid, target.pid if target.mode == "run" else None)
        pids = self._scanner.scan()
        if target.mode != "run":  # (a gated child is a copy of us until its exec: not read)
            self._table.update(pids)  # baseline, so the first snapshot already has CPU %
        self._sampler.set_pids(pids)
        self._t0 = time.monotonic()
        self._sampler.start()

    def sample(self) -> Snapshot:
        assert self._target is not None and self._scanner is not None, "start() first"
        # Status first: a target seen finished here is read below as the zombie it is.
        status = self._target.poll()
        pids = self._scanner.scan()
        self._sampler.set_pids(pids)
        hits = self._sampler.hits()
        live, ended = self._table.update(pids)
        if self._exits is not None:
            self._exits.drain({*pids, *(p.pid for p in ended)})
            ended = [self._at_exit(p) for p in ended]
            # Born and gone between two readings: seen only by their exit records.
            unseen = self._exits.children_of({*pids, *(p.pid for p in ended)})
            ended += [only_at_exit(rec) for rec in unseen]
        processes = [
            self._with_hits(p, hits, self._target.started_argv(p.pid)) for p in (*live, *ended)
        ]
        self._sampler.forget([p.pid for p in ended])
        totals, summary = self._ledger.account(processes)
        return Snapshot(
            t=time.monotonic() - self._t0,
            ts=time.time(),
            target=status,
            processes=processes,
            totals=totals,
            syscalls=summary,
            diagnostics=self._sampler.stats().to_dict()
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
        self, p: ProcessSample, hits: dict[int, dict[int, int]], started: tuple[str, ...]
    ) -> ProcessSample:
        """``p`` with its sampled syscalls (and, if /proc had none, the command line we
        started). Unchanged (the same reading, the same table): the same object as before,
        cheap to count and to write out."""
        mine = hits.get(p.pid) or {}
        cached = self._hit_sections.get(p.pid)
        if cached is not None and cached[0] == mine:
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
        target = self._target
        if target is not None and p.pid == target.pid and not p.alive:
            status = target.poll()  # the root's status: ours, as its parent
            if status.finished and status.exit_code is not None:
                p = replace(p, exit_code=status.exit_code)
        if p.exit_code is None:
            reasons.setdefault("exit_code", NO_EXIT_STATUS)
        if not p.alive:
            reasons.setdefault("end_ts", NO_END_TIME)
        out = replace(p, cmdline=p.cmdline or started, syscalls=section, null_reasons=reasons)
        if p.alive:
            self._hit_sections[p.pid] = (dict(mine), section, p, out)
        return out
