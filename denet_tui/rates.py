"""Rates derived from two snapshots, and percentiles from latency histograms. Pure, no Textual.

Snapshots carry cumulative counters; everything per second here is a difference between two
snapshots divided by the time between them. A rate whose counter the collector does not give
is ``None``, never 0.

The screen keeps a history of :class:`Frame` (a compact copy of the per-process counters of one
snapshot) rather than whole snapshots, so a subtree's sparklines can be recomputed from the
history when the user changes scope.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from denet_tui.model import ProcessSample, ShareBasis, Snapshot, SyscallSummary, summarize


class Point(NamedTuple):
    """The figures of one process in one snapshot that rates are made from."""

    ppid: int | None
    alive: bool
    cpu_percent: float | None
    cpu_time_s: float | None
    rss_bytes: int | None
    read_bytes: int | None  # disk
    write_bytes: int | None
    read_chars: int | None  # logical I/O (rchar/wchar)
    write_chars: int | None
    syscalls: int | None  # every syscall (exact collectors only)
    rw_calls: int | None  # read + write family calls, /proc/PID/io syscr + syscw (exact)

    @classmethod
    def of(cls, p: ProcessSample) -> Point:
        rw = (
            p.read_syscalls + p.write_syscalls
            if p.read_syscalls is not None and p.write_syscalls is not None
            else None
        )
        return cls(
            p.ppid,
            p.alive,
            p.cpu_percent,
            p.cpu_time_s,
            p.rss_bytes,
            p.read_bytes,
            p.write_bytes,
            p.read_chars,
            p.write_chars,
            p.syscalls,
            rw,
        )


@dataclass(frozen=True, slots=True)
class Frame:
    t: float
    points: Mapping[int, Point]

    @classmethod
    def of(cls, snap: Snapshot) -> Frame:
        return cls(snap.t, {p.pid: Point.of(p) for p in snap.processes})


def subtree(points: Mapping[int, Point], root: int) -> frozenset[int]:
    """``root`` and every process below it (by ppid) among ``points``."""
    children: dict[int, list[int]] = {}
    for pid, pt in points.items():
        if pt.ppid is not None and pt.ppid != pid:
            children.setdefault(pt.ppid, []).append(pid)
    found = {root}
    todo = [root]
    while todo:
        for c in children.get(todo.pop(), ()):
            if c not in found:
                found.add(c)
                todo.append(c)
    return frozenset(found & points.keys())


def _delta(prev: Point | None, cur: Point, i: int) -> float | None:
    """Growth of counter ``i`` of one process between two frames (None if unknown)."""
    now = cur[i]
    if now is None:
        return None
    if prev is None:
        return now  # born since the previous frame: all of its counter is new
    before = prev[i]
    if before is None:
        return None
    return now - before if now >= before else now  # a reused pid starts again from 0


_CPU, _READ, _WRITE, _RCHAR, _WCHAR, _SYSCALLS, _RW = (
    Point._fields.index(f)
    for f in (
        "cpu_time_s",
        "read_bytes",
        "write_bytes",
        "read_chars",
        "write_chars",
        "syscalls",
        "rw_calls",
    )
)


def _sum(values: Iterable[float | int | None]) -> float | None:
    total: float | None = None
    for v in values:
        if v is not None:
            total = (total or 0) + v
    return total


@dataclass(frozen=True, slots=True)
class ProcessRates:
    cpu_percent: float | None
    syscalls_per_s: float | None
    rw_calls_per_s: float | None
    read_bps: float | None  # disk
    write_bps: float | None
    rchar_bps: float | None = None  # logical I/O
    wchar_bps: float | None = None


def process_rates(prev: Frame | None, cur: Frame) -> dict[int, ProcessRates]:
    """Per-process rates over the interval between two frames (only CPU % for the first).

    CPU % is the collector's; for a process it has no CPU % for yet (born since its previous
    reading), it is the CPU time the process used since the previous frame over the interval.
    """
    dt = cur.t - prev.t if prev is not None else 0.0
    out: dict[int, ProcessRates] = {}
    for pid, pt in cur.points.items():
        if prev is None or dt <= 0:
            out[pid] = ProcessRates(pt.cpu_percent, None, None, None, None)
            continue
        before = prev.points.get(pid)
        cpu = pt.cpu_percent
        if cpu is None and pt.alive and (used := _delta(before, pt, _CPU)) is not None:
            cpu = used / dt * 100.0
        rates = [_delta(before, pt, i) for i in (_SYSCALLS, _RW, _READ, _WRITE, _RCHAR, _WCHAR)]
        out[pid] = ProcessRates(cpu, *(None if r is None else r / dt for r in rates))
    return out


@dataclass(frozen=True, slots=True)
class TreeRates:
    """One sample of the sparklines: a set of processes over one interval."""

    t: float
    cpu_percent: float | None  # 100 = one core
    rss_bytes: float | None
    read_bps: float | None  # disk
    write_bps: float | None
    syscalls_per_s: float | None
    rw_calls_per_s: float | None
    rchar_bps: float | None = None  # logical I/O
    wchar_bps: float | None = None


def tree_rates(prev: Frame | None, cur: Frame, pids: Collection[int] | None = None) -> TreeRates:
    """Totals of ``pids`` (default: every process of the frame) between two frames.

    CPU % is the CPU time the processes used between the frames (the ones that exited in
    between included) over the time between them; for the first frame, the collector's CPU %.
    """
    chosen = [(pid, pt) for pid, pt in cur.points.items() if pids is None or pid in pids]
    rss = _sum(pt.rss_bytes for _, pt in chosen if pt.alive)
    if prev is None or cur.t <= prev.t:
        cpu = _sum(pt.cpu_percent for _, pt in chosen if pt.alive)
        return TreeRates(cur.t, cpu, rss, None, None, None, None, None, None)
    dt = cur.t - prev.t
    get = prev.points.get

    def rate(i: int) -> float | None:
        total = _sum(_delta(get(pid), pt, i) for pid, pt in chosen)
        return None if total is None else total / dt

    cpu_s = rate(_CPU)
    return TreeRates(
        cur.t,
        None if cpu_s is None else cpu_s * 100.0,
        rss,
        rate(_READ),
        rate(_WRITE),
        rate(_SYSCALLS),
        rate(_RW),
        rate(_RCHAR),
        rate(_WCHAR),
    )


def history(frames: Sequence[Frame], pids: Collection[int] | None = None) -> list[TreeRates]:
    """Sparkline samples for ``pids``, one per frame (the first has levels but no rates)."""
    return [tree_rates(a, b, pids) for a, b in zip([None, *frames], frames, strict=False)]


def category_rates(
    prev: SyscallSummary | None, cur: SyscallSummary, dt: float
) -> dict[str, float | None]:
    """Calls per second of each category (None where counts are not exact or unknown)."""
    out: dict[str, float | None] = {}
    for cat, stat in cur.by_category.items():
        before = prev.by_category.get(cat) if prev is not None else None
        if stat.count is None or before is None or before.count is None or dt <= 0:
            out[cat] = None
        else:
            out[cat] = max(0, stat.count - before.count) / dt
    return out


def percentile_ns(hist: Sequence[int] | None, q: float) -> float | None:
    """The ``q`` quantile (0..1) of a log2 latency histogram, in ns.

    Bucket ``i`` counts calls lasting [2**i, 2**(i+1)) ns; within the bucket that holds the
    quantile, the value is interpolated linearly (as Prometheus' ``histogram_quantile`` does),
    so the answer is good to a factor of two at worst.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile out of range: {q}")
    if not hist:
        return None
    cumulative = list(accumulate(hist))
    if cumulative[-1] <= 0:
        return None
    rank = q * cumulative[-1]
    i = next(i for i, c in enumerate(cumulative) if hist[i] and c >= rank)
    low = float(2**i)
    return low + low * max(0.0, rank - (cumulative[i] - hist[i])) / hist[i]


class Extremes:
    """The lowest and highest known value of each sparkline figure over a whole series, however
    long: what "min" and "max" mean on screen, whatever width the sparkline has."""

    FIELDS = tuple(f for f in TreeRates.__slots__ if f != "t")

    def __init__(self, samples: Iterable[TreeRates] = ()) -> None:
        self.low: dict[str, float] = {}
        self.high: dict[str, float] = {}
        for r in samples:
            self.add(r)

    def add(self, r: TreeRates) -> None:
        for f in self.FIELDS:
            v = getattr(r, f)
            if v is not None:
                self.low[f] = min(v, self.low.get(f, v))
                self.high[f] = max(v, self.high.get(f, v))


class Timeline:
    """The recent past as the screen needs it, advanced one snapshot at a time.

    Keeps the latest two snapshots, a window of frames, per-process rates of the last interval,
    and the sparkline samples of the current scope (the whole tree, or one process's subtree).
    """

    def __init__(
        self, *, exact: bool, share_basis: ShareBasis, keep: int = 300, min_dt: float = 0.0
    ) -> None:
        self._exact = exact
        self._basis = share_basis
        # Rates are measured over at least this long: a snapshot taken moments after the last
        # (the root's end is sampled at once) is compared with the one before, not turned into
        # a rate over a few milliseconds.
        self._min_dt = min_dt
        self._frames: deque[Frame] = deque(maxlen=keep)
        self.series: deque[TreeRates] = deque(maxlen=keep)
        # Over the whole session for the whole tree; for a scope, over the frames kept.
        self._whole = self.extremes = Extremes()
        self.snapshot: Snapshot | None = None
        self.previous: Snapshot | None = None
        self.process_rates: dict[int, ProcessRates] = {}
        self.scope: int | None = None
        self._scoped: tuple[int, Snapshot, SyscallSummary] | None = None

    def add(self, snap: Snapshot) -> None:
        frame = Frame.of(snap)
        before = self._frames[-1] if self._frames else None
        soon = before is not None and frame.t - before.t < self._min_dt
        if soon:
            # The short step replaces the last one, rates and all, measured from the one before
            # (none yet: no rate, rather than a rate over a few milliseconds).
            self._frames.pop()
            before = self._frames[-1] if self._frames else None
            if self.series:
                self.series.pop()
            if before is None:
                self.previous = None
        else:
            self.previous = self.snapshot
        self.snapshot = snap
        self._frames.append(frame)
        self.process_rates = process_rates(before, frame)
        whole = tree_rates(before, frame)
        self._whole.add(whole)
        if self.scope is None:
            self.series.append(whole)
        else:
            self.series.append(tree_rates(before, frame, self.scope_pids()))
            self.extremes.add(self.series[-1])

    def set_scope(self, pid: int | None) -> None:
        """Scope to ``pid``'s subtree (None: everything); the sparklines are recomputed."""
        self.scope = pid
        self.series = deque(history(self._frames, self.scope_pids()), maxlen=self.series.maxlen)
        if pid is None:
            self.extremes = self._whole
        else:
            self.extremes = Extremes(self.series)

    def scope_pids(self) -> frozenset[int] | None:
        if self.scope is None or not self._frames:
            return None
        return subtree(self._frames[-1].points, self.scope)

    def syscalls(self) -> tuple[SyscallSummary | None, SyscallSummary | None, float]:
        """Syscalls of the scope: now, at the previous snapshot, and the seconds between."""
        cur, prev = self.snapshot, self.previous
        if cur is None:
            return None, None, 0.0
        dt = cur.t - prev.t if prev is not None else 0.0
        pids = self.scope_pids()
        if pids is None or self.scope is None:
            return cur.syscalls, prev.syscalls if prev is not None else None, dt
        now = self._summary(cur, pids)
        before = None
        if prev is not None:
            cached = self._scoped
            same = cached is not None and cached[0] == self.scope and cached[1] is prev
            before = cached[2] if same and cached is not None else self._summary(prev, pids)
        self._scoped = (self.scope, cur, now)
        return now, before, dt

    def _summary(self, snap: Snapshot, pids: frozenset[int]) -> SyscallSummary:
        chosen = (p for p in snap.processes if p.pid in pids)
        return summarize(chosen, self._basis, exact=self._exact)
