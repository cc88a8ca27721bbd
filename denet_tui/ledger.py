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
    SyscallRow,
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

    def add(self, table: SyscallTable) -> None:
        """Add one process's per-syscall figures."""
        self._add_rows(table.rows, 1)

    def add_change(self, was: SyscallTable, now: SyscallTable) -> None:
        """Replace one process's figures ``was`` by ``now``: only the rows that differ are
        touched (a busy process's table changes in a few of its calls from one sample to the
        next)."""
        if was is now:
            return
        before = {row[0]: row for row in was.rows}
        removed: list[SyscallRow] = []
        added: list[SyscallRow] = []
        for row in now.rows:
            old = before.pop(row[0], None)
            if old == row:
                continue
            if old is not None:
                removed.append(old)
            added.append(row)
        removed.extend(before.values())  # rows gone from the table
        self._add_rows(removed, -1)
        self._add_rows(added, 1)

    def _add_rows(self, rows: Iterable[SyscallRow], sign: int) -> None:
        # One loop, no call per row: a build adds thousands of rows a second.
        values, categories = self.values, self.categories
        for name, category, count, errors, time_ns, samples in rows:
            acc = values.get(name)
            if acc is None:
                acc = values[name] = [None, None, None, None]
                categories[name] = category
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

    def add(self, p: ProcessSample) -> None:
        """Add one process's counters."""
        values, missing = self.values, self.missing
        for i, v in enumerate(_counters_of(p)):
            if v is not None:
                values[i] = (values[i] or 0) + v
            else:
                missing[i] += 1

    def add_change(self, was: ProcessSample, now: ProcessSample) -> None:
        """Replace one process's counters ``was`` by ``now``, in one pass."""
        values, missing = self.values, self.missing
        for i, (a, b) in enumerate(zip(_counters_of(was), _counters_of(now), strict=True)):
            if a == b:
                continue
            if a is None:
                missing[i] -= 1
            else:
                values[i] -= a  # type: ignore[operator]  # not None: ``a`` is in it
            if b is None:
                missing[i] += 1
            else:
                values[i] = (values[i] or 0) + b

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

    One running sum holds every process as last listed, alive or ended, kept up to date by
    difference: a process listed as the same object as last time (nothing changed) costs
    nothing, and a changed one only what changed.
    """

    def __init__(self, share_basis: ShareBasis, *, exact: bool) -> None:
        self._basis = share_basis
        self._exact = exact
        self._counters = CounterSums()
        self._syscalls = SyscallSums()
        self._ended_count = 0
        self._live: dict[int, ProcessSample] = {}  # as counted in the sums above
        self._peak_max: int | None = None  # the largest peak_rss_bytes listed
        self._sum_peak: int | None = None  # the largest sum of listed live RSS

    def account(self, listed: Iterable[ProcessSample]) -> tuple[TreeTotals, SyscallSummary]:
        was, now = self._live, {}
        counters, syscalls = self._counters, self._syscalls
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
            if p.alive:
                now[p.pid] = p
                live += 1
            else:
                ended += 1
            if before is p:
                continue
            if before is None:
                counters.add(p)
                syscalls.add(p.syscalls_by_name)
                continue
            counters.add_change(before, p)
            syscalls.add_change(before.syscalls_by_name, p.syscalls_by_name)
        # Those no longer listed without being listed ended stay in the sums as last listed.
        ended += len(was)
        self._live = now
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
        return totals, syscalls.summary(self._basis, exact=self._exact)
