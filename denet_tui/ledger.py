"""Sums over processes: syscall summaries, and the tree's totals over every process ever seen.

Snapshots list the processes alive plus those that ended in the interval (schema 2); what ended
earlier lives on here, folded into running sums, so tree figures never go down and memory does
not grow with the length of the run.
"""

from __future__ import annotations

from collections.abc import Iterable

from denet_tui.figures import COUNTERS, values_getter
from denet_tui.model import (
    CategoryStat,
    ProcessSample,
    ShareBasis,
    SyscallStat,
    SyscallSummary,
    SyscallTable,
    TreeTotals,
)


class SyscallSums:
    """Per-syscall sums (count, errors, time, samples) of a set of processes."""

    __slots__ = ("values", "categories")

    def __init__(self) -> None:
        self.values: dict[str, list[int | None]] = {}
        self.categories: dict[str, str] = {}

    def add(self, table: SyscallTable, sign: int = 1) -> None:
        """Add (``sign`` -1: take away) one process's per-syscall figures."""
        values = self.values
        # Unrolled: this runs for every syscall of every process that changed.
        for name, category, count, errors, time_ns, samples in table.rows:
            acc = values.get(name)
            if acc is None:
                acc = values[name] = [None, None, None, None]
                self.categories[name] = category
            if count is not None:
                acc[0] = (acc[0] or 0) + sign * count
            if errors is not None:
                acc[1] = (acc[1] or 0) + sign * errors
            if time_ns is not None:
                acc[2] = (acc[2] or 0) + sign * time_ns
            if samples is not None:
                acc[3] = (acc[3] or 0) + sign * samples

    def add_sums(self, other: SyscallSums) -> None:
        for name, vals in other.values.items():
            acc = self.values.get(name)
            if acc is None:
                self.values[name] = list(vals)
                self.categories[name] = other.categories[name]
                continue
            for i, v in enumerate(vals):
                if v is not None:
                    acc[i] = (acc[i] or 0) + v

    def summary(self, share_basis: ShareBasis, *, exact: bool) -> SyscallSummary:
        """``exact`` says whether counts are kernel-exact; when they are not, totals stay None."""
        from denet_tui.syscalls import CATEGORIES  # local: syscalls imports nothing from here

        by_name = self.values
        names = {
            n: SyscallStat(
                category=self.categories[n],
                count=a[0],
                errors=a[1],
                time_ns=a[2],
                samples=a[3],
            )
            for n, a in by_name.items()
        }
        basis_index = {"count": 0, "time": 2, "samples": 3}.get(share_basis or "")
        cat_acc: dict[str, list[int | None]] = {c: [None, None, None, None] for c in CATEGORIES}
        for n, a in by_name.items():
            acc = cat_acc[self.categories[n]]
            for i, v in enumerate(a):
                if v is not None:
                    acc[i] = (acc[i] or 0) + v
        denom = sum(a[basis_index] or 0 for a in cat_acc.values()) if basis_index is not None else 0
        by_category = {
            c: CategoryStat(
                # Exact counting saw every call, so a category with none has a true zero.
                count=(a[0] or 0) if exact else None,
                errors=(a[1] or 0) if exact else a[1],
                time_ns=a[2],
                samples=a[3],
                share=((a[basis_index] or 0) / denom)
                if denom and basis_index is not None
                else None,
            )
            for c, a in cat_acc.items()
        }
        total = sum(a[0] or 0 for a in by_name.values()) if exact else None
        return SyscallSummary(
            total=total, by_category=by_category, by_name=names, share_basis=share_basis
        )


def summarize(
    processes: Iterable[ProcessSample], share_basis: ShareBasis, *, exact: bool
) -> SyscallSummary:
    """Sum per-process syscall figures into one summary (a set of processes as listed)."""
    sums = SyscallSums()
    for p in processes:
        sums.add(p.syscalls_by_name)
    return sums.summary(share_basis, exact=exact)


_counters_of = values_getter(COUNTERS)


class CounterSums:
    """Sums of every counter figure (``figures.COUNTERS``) over a set of processes; a figure no
    process had stays None."""

    __slots__ = ("values", "missing")

    def __init__(self) -> None:
        self.values: list[float | int | None] = [None] * len(COUNTERS)
        self.missing = [0] * len(COUNTERS)  # processes without the figure (left out)

    def add(self, p: ProcessSample, sign: int = 1) -> None:
        """Add (``sign`` -1: take away) one process's counters."""
        values, missing = self.values, self.missing
        for i, v in enumerate(_counters_of(p)):
            if v is not None:
                values[i] = (values[i] or 0) + sign * v
            else:
                missing[i] += sign

    def add_sums(self, other: CounterSums) -> None:
        for i, v in enumerate(other.values):
            if v is not None:
                self.values[i] = (self.values[i] or 0) + v
            self.missing[i] += other.missing[i]

    def copy(self) -> CounterSums:
        out = CounterSums()
        out.values = list(self.values)
        out.missing = list(self.missing)
        return out

    def unknown(self) -> dict[str, int]:
        """Per figure with a total, how many processes it leaves out (they have no such
        figure): that total is a lower bound. A figure no process has (its family is off, or
        the collector has none) has no total, and is not listed."""
        return {
            f.key: n
            for f, n, v in zip(COUNTERS, self.missing, self.values, strict=True)
            if n and v is not None
        }

    def totals(self, *, live: int, ended: int, **peaks: int | None) -> TreeTotals:
        """These sums as the tree's totals, over ``live`` + ``ended`` processes (with the
        tree's ``peaks``, model.PEAKS, kept by whoever sees every snapshot)."""
        return TreeTotals(
            processes_seen=live + ended,
            processes_live=live,
            processes_ended=ended,
            **{f.key: v for f, v in zip(COUNTERS, self.values, strict=True)},
            **peaks,
            unknown=self.unknown(),
        )


class TreeLedger:
    """The tree's totals and syscall summary over every process ever seen.

    ``account(listed)`` takes one snapshot's processes (the live ones and those that ended in
    its interval), returns the totals and summary including everything that ended before, then
    folds the ended ones in: each ended process must be listed exactly once.

    The live processes' sums are kept up to date by difference: a process listed as the same
    object as last time (nothing changed) costs nothing.
    """

    def __init__(self, share_basis: ShareBasis, *, exact: bool) -> None:
        self._basis = share_basis
        self._exact = exact
        self._ended = CounterSums()
        self._ended_syscalls = SyscallSums()
        self._ended_count = 0
        self._live: dict[int, ProcessSample] = {}  # as counted in the sums below
        self._live_counters = CounterSums()
        self._live_syscalls = SyscallSums()
        self._peak_max: int | None = None  # the largest peak_rss_bytes listed
        self._sum_peak: int | None = None  # the largest sum of listed live RSS

    def _count(self, p: ProcessSample, sign: int) -> None:
        self._live_counters.add(p, sign)
        self._live_syscalls.add(p.syscalls_by_name, sign)

    def account(self, listed: Iterable[ProcessSample]) -> tuple[TreeTotals, SyscallSummary]:
        was, now = self._live, {}
        live = ended = 0
        peak_max, rss_sum, rss_known = self._peak_max, 0, False
        for p in listed:
            peak = p.peak_rss_bytes
            if peak is not None and (peak_max is None or peak > peak_max):
                peak_max = peak
            if p.alive and p.rss_bytes is not None:
                rss_sum += p.rss_bytes
                rss_known = True
            before = was.pop(p.pid, None)
            if before is p:
                now[p.pid] = p
                live += 1
                continue
            if before is not None and p.alive and before.syscalls is p.syscalls:
                # Only other figures changed (a sleeper's time asleep): its table stands.
                self._live_counters.add(before, -1)
                self._live_counters.add(p, 1)
                now[p.pid] = p
                live += 1
                continue
            if before is not None:
                self._count(before, -1)
            if p.alive:
                self._count(p, 1)
                now[p.pid] = p
                live += 1
                continue
            ended += 1
            self._ended.add(p)
            self._ended_syscalls.add(p.syscalls_by_name)
        for gone in was.values():  # no longer listed without being listed ended: its last
            self._count(gone, -1)
            self._ended.add(gone)
            self._ended_syscalls.add(gone.syscalls_by_name)
            ended += 1
        self._live = now
        counters = self._ended.copy()
        counters.add_sums(self._live_counters)
        sums = SyscallSums()
        sums.add_sums(self._ended_syscalls)
        sums.add_sums(self._live_syscalls)
        self._ended_count += ended
        self._peak_max = peak_max
        if rss_known and (self._sum_peak is None or rss_sum > self._sum_peak):
            self._sum_peak = rss_sum
        # A sum is never below one of its parts: a process that peaked between two snapshots
        # raises the sum's peak to at least its own.
        sum_peak = max((v for v in (self._sum_peak, peak_max) if v is not None), default=None)
        totals = counters.totals(
            live=live,
            ended=self._ended_count,
            peak_rss_max_bytes=peak_max,
            rss_sum_peak_bytes=sum_peak,
        )
        return totals, sums.summary(self._basis, exact=self._exact)
