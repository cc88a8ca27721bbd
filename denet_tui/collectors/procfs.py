"""The /proc collector: exact per-process figures, plus a sampled estimate of syscall shares."""

from __future__ import annotations

import time
from dataclasses import replace

from denet_tui.collectors.proc_reader import ProcessTable
from denet_tui.collectors.syscall_sampler import CPU_BUDGET, SyscallSampler
from denet_tui.collectors.tree_scan import TreeScanner
from denet_tui.model import CollectorInfo, ProcessSample, Snapshot, SyscallStat, summarize
from denet_tui.syscalls import category_of, syscall_name
from denet_tui.target import Target


class ProcfsCollector:
    def __init__(self, sample_hz: float = 100.0, cpu_budget: float = CPU_BUDGET) -> None:
        self.info = CollectorInfo(
            name="procfs",
            syscalls="sampled",
            reason="",
            share_basis="samples",
            families={"syscalls": "sampled"},
        )
        self._sampler = SyscallSampler(rate_hz=sample_hz, cpu_budget=cpu_budget)
        self._table = ProcessTable()
        self._target: Target | None = None
        self._scanner: TreeScanner | None = None
        self._t0 = 0.0

    def start(self, target: Target) -> None:
        self._target = target
        self._scanner = TreeScanner(target.pid, target.pid if target.mode == "run" else None)
        pids = self._scanner.scan()
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
        processes = [
            _with_hits(p, hits.get(p.pid), self._target.started_argv(p.pid))
            for p in self._table.update(pids)
        ]
        return Snapshot(
            t=time.monotonic() - self._t0,
            ts=time.time(),
            target=status,
            processes=processes,
            syscalls=summarize(processes, "samples", exact=False),
            diagnostics=self._sampler.stats().to_dict(),
        )

    def close(self) -> None:
        self._sampler.stop()


def _with_hits(
    p: ProcessSample, hits: dict[int, int] | None, started: tuple[str, ...]
) -> ProcessSample:
    """``p`` with its sampled syscalls (and, if /proc had none, the command line we started)."""
    by_name: dict[str, SyscallStat] = {}
    for nr, n in (hits or {}).items():
        name = syscall_name(nr)
        by_name[name] = SyscallStat(category=category_of(name), samples=n)
    reasons = dict(p.null_reasons)
    reasons["syscalls"] = "/proc cannot count every syscall; see syscalls_by_name samples"
    cmdline = p.cmdline or started
    return replace(p, cmdline=cmdline, syscalls_by_name=by_name, null_reasons=reasons)
