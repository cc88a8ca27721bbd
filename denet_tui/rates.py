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
from operator import itemgetter
from typing import NamedTuple

from denet_tui.evolve import evolve
from denet_tui.figures import COUNTERS, NUMERIC, values_getter
from denet_tui.ledger import SyscallSums
from denet_tui.model import (
    CategoryStat,
    ProcessSample,
    ShareBasis,
    Snapshot,
    SyscallStat,
    SyscallSummary,
)

_INDEX = {f.key: i for i, f in enumerate(NUMERIC)}
RECENT_ENDED = 2000  # ended processes remembered one by one (Timeline.process)
_numeric_of = values_getter(NUMERIC)
_COUNTERS = tuple((f.key, _INDEX[f.key]) for f in COUNTERS)
_counters_of = itemgetter(*(i for _key, i in _COUNTERS))  # a Point's counters, in COUNTERS order
_CPU, _CPU_TIME, _RSS = (_INDEX[k] for k in ("cpu_percent", "cpu_time_s", "rss_bytes"))
# Read- plus write-family calls (/proc/PID/io syscr + syscw): the /proc collector's exact calls.
RW_CALLS = "rw_calls"


class Point(NamedTuple):
    """The figures of one process in one snapshot that rates are made from."""

    ppid: int | None
    alive: bool
    values: tuple[float | int | None, ...]  # every numeric figure, in ``figures.NUMERIC`` order

    @classmethod
    def of(cls, p: ProcessSample) -> Point:
        return cls(p.ppid, p.alive, _numeric_of(p))


@dataclass(frozen=True, slots=True)
class Frame:
    t: float
    points: Mapping[int, Point]
    samples: Mapping[int, ProcessSample] | None = None  # what the points were made from

    @classmethod
    def of(cls, snap: Snapshot, before: Frame | None = None) -> Frame:
        """The frame of ``snap``; a process listed as the same sample object as in ``before``
        (nothing about it changed) keeps its Point object there, which the rates recognise."""
        if before is None or before.samples is None:
            points = {p.pid: Point.of(p) for p in snap.processes}
        else:
            old, get = before.samples, before.points.get
            points = {
                p.pid: pt if old.get(p.pid) is p and (pt := get(p.pid)) is not None else Point.of(p)
                for p in snap.processes
            }
        return cls(snap.t, points, {p.pid: p for p in snap.processes})


def subtree(points: Mapping[int, Point | ProcessSample], root: int) -> frozenset[int]:
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
    """Growth of figure ``i`` of one process between two frames (None if unknown)."""
    now = cur.values[i]
    if now is None:
        return None
    if prev is None:
        return now  # born since the previous frame (or listed for the first time): all new
    before = prev.values[i]
    if before is None:
        return None
    return now - before if now >= before else now  # a reused pid starts again from 0


def _sum(values: Iterable[float | int | None]) -> float | None:
    total: float | None = None
    for v in values:
        if v is not None:
            total = (total or 0) + v
    return total


def _with_rw(values: dict[str, float | None]) -> dict[str, float | None]:
    r, w = values.get("read_syscalls"), values.get("write_syscalls")
    values[RW_CALLS] = r + w if r is not None and w is not None else None
    return values


@dataclass(frozen=True, slots=True)
class Rates:
    """Figures over one interval, by figure key: a counter's rate per second, ``cpu_percent``
    (100 = one core), ``rss_bytes`` now, and ``rw_calls`` (read + write calls per second)."""

    t: float
    values: Mapping[str, float | None]
    idle: Point | None = None  # set when nothing changed: the point it was idle at

    def __getitem__(self, key: str) -> float | None:
        return self.values.get(key)


def process_rates(
    prev: Frame | None, cur: Frame, last: Mapping[int, Rates] | None = None
) -> dict[int, Rates]:
    """Per-process rates over the interval between two frames (only CPU % for the first).

    CPU % is the collector's; for a process it has no CPU % for yet (born since its previous
    reading), it is the CPU time the process used since the previous frame over the interval.
    A process idle again (the same point twice running) keeps its Rates object from ``last``.
    """
    dt = cur.t - prev.t if prev is not None else 0.0
    out: dict[int, Rates] = {}
    for pid, pt in cur.points.items():
        if prev is None or dt <= 0:
            out[pid] = Rates(cur.t, {"cpu_percent": pt.values[_CPU]})
            continue
        before = prev.points.get(pid)
        if before is pt:  # the same point: nothing changed, every rate it has is 0
            old = last.get(pid) if last is not None else None
            if old is not None and old.idle is pt:
                out[pid] = old
                continue
            idle = {key: None if pt.values[i] is None else 0.0 for key, i in _COUNTERS}
            idle["cpu_percent"] = pt.values[_CPU]
            out[pid] = Rates(cur.t, _with_rw(idle), idle=pt)
            continue
        # (_delta's rules, inline: this runs for every figure of every process that changed)
        now = pt.values
        if before is None:  # born since the previous frame: all of it is new
            values = {key: None if (n := now[i]) is None else n / dt for key, i in _COUNTERS}
        else:
            was = before.values
            values = {
                key: None
                if (n := now[i]) is None or (b := was[i]) is None
                else (n - b if n >= b else n) / dt
                for key, i in _COUNTERS
            }
        cpu = pt.values[_CPU]
        if cpu is None and pt.alive and (used := _delta(before, pt, _CPU_TIME)) is not None:
            cpu = used / dt * 100.0
        values["cpu_percent"] = cpu
        out[pid] = Rates(cur.t, _with_rw(values))
    return out


def tree_rates(prev: Frame | None, cur: Frame, pids: Collection[int] | None = None) -> Rates:
    """Totals of ``pids`` (default: every process of the frame) between two frames.

    CPU % is the CPU time the processes used between the frames (the ones that exited in
    between included: a snapshot lists them with their final figures) over the time between
    them; for the first frame, the collector's CPU %.
    """
    chosen = [(pid, pt) for pid, pt in cur.points.items() if pids is None or pid in pids]
    alive = [pt for _, pt in chosen if pt.alive]
    # Every process ended: nothing is resident (not "unknown", which read as a figure the
    # collector cannot give).
    rss = _sum(pt.values[_RSS] for pt in alive) if alive or not chosen else 0
    values: dict[str, float | None] = {"rss_bytes": rss}
    if prev is None or cur.t <= prev.t:
        values["cpu_percent"] = _sum(pt.values[_CPU] for pt in alive)
        return Rates(cur.t, values)
    dt = cur.t - prev.t
    get = prev.points.get
    # The growth of every counter, summed over the processes that moved (the rest grew by 0),
    # with _delta's rules, inline: this runs for every figure of every process that changed.
    sums: list[float | int | None] = [None] * len(_COUNTERS)
    moved = 0
    for pid, pt in chosen:
        before = get(pid)
        if before is pt:
            continue
        moved += 1
        now = _counters_of(pt.values)
        if before is None:
            grew = now  # born since the previous frame (or listed for the first time): all new
        else:
            grew = [
                None if n is None or b is None else (n - b if n >= b else n)
                for n, b in zip(now, _counters_of(before.values), strict=True)
            ]
        sums = [
            s if g is None else (g if s is None else s + g) for s, g in zip(sums, grew, strict=True)
        ]
    for (key, i), total in zip(_COUNTERS, sums, strict=True):
        if total is None and moved < len(chosen):
            # Unchanged processes add 0 where they have the figure at all.
            total = 0.0 if any(pt.values[i] is not None for _, pt in chosen) else None
        values[key] = None if total is None else total / dt
    cpu_s = values["cpu_time_s"]
    values["cpu_percent"] = None if cpu_s is None else cpu_s * 100.0
    return Rates(cur.t, _with_rw(values))


def _zeroed(s: SyscallSummary) -> SyscallSummary:
    """``s`` with every known figure 0: the calls of a tree at its start."""

    def z(v: int | None) -> int | None:
        return None if v is None else 0

    return SyscallSummary(
        total=z(s.total),
        by_category={
            c: CategoryStat(z(st.count), z(st.errors), z(st.time_ns), z(st.samples), 0.0)
            for c, st in s.by_category.items()
        },
        by_name={
            n: SyscallStat(
                st.category, z(st.count), z(st.errors), z(st.time_ns), z(st.samples),
                None if st.hist is None else (0,) * len(st.hist),
            )
            for n, st in s.by_name.items()
        },
        share_basis=s.share_basis,
    )  # fmt: skip


def _at_start(snap: Snapshot, t: float = 0.0) -> Snapshot:
    """The tree of a command we ran at its start (``t``): no process, no call yet."""
    return Snapshot(t, snap.ts - snap.t + t, snap.target, (), _zeroed(snap.syscalls))


def _span(snap: Snapshot) -> tuple[float, float] | None:
    """From the first start to the last end of the processes of a finished run (in ``t``), if
    every one of them has ended and has both dated; None otherwise."""
    starts = [p.start_ts for p in snap.processes]
    ends = [p.end_ts for p in snap.processes]
    if not snap.processes or any(v is None for v in (*starts, *ends)):
        return None
    base = snap.ts - snap.t  # (unix time of t 0)
    return min(starts) - base, max(ends) - base  # type: ignore[type-var, operator]


def _ended_points(frame: Frame) -> dict[int, Point]:
    """A frame's ended processes, which only it lists (a live one is listed again next time)."""
    return {pid: pt for pid, pt in frame.points.items() if not pt.alive}


def history(frames: Sequence[Frame], pids: Collection[int] | None = None) -> list[Rates]:
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


def percentile_ns(
    hist: Sequence[int] | None, q: float, ceiling_ns: float | None = None
) -> float | None:
    """The ``q`` quantile (0..1) of a log2 latency histogram, in ns.

    Bucket ``i`` counts calls lasting [2**i, 2**(i+1)) ns; within the bucket that holds the
    quantile, the value is interpolated linearly (as Prometheus' ``histogram_quantile`` does),
    so the answer is good to a factor of two at worst. ``ceiling_ns``: what no call can have
    lasted longer than (all of the calls' time together): the answer never passes it (one
    `sleep 2` is not a 2.14 s P99).
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
    value = low + low * max(0.0, rank - (cumulative[i] - hist[i])) / hist[i]
    # (A ceiling below the bucket is a total read before the histogram: the bucket holds.)
    return value if ceiling_ns is None else min(value, max(ceiling_ns, low))


class Extremes:
    """The lowest and highest known value of each sparkline figure over a whole series, however
    long: what "min" and "max" mean on screen, whatever width the sparkline has."""

    def __init__(self, samples: Iterable[Rates] = ()) -> None:
        self.low: dict[str, float] = {}
        self.high: dict[str, float] = {}
        for r in samples:
            self.add(r)

    def add(self, r: Rates) -> None:
        for f, v in r.values.items():
            if v is not None:
                self.low[f] = min(v, self.low.get(f, v))
                self.high[f] = max(v, self.high.get(f, v))


class Timeline:
    """The recent past as the screen needs it, advanced one snapshot at a time.

    Keeps the latest two snapshots, a window of frames, per-process rates of the last interval,
    and the sparkline samples of the current scope (the whole tree's, kept for ``keep``
    snapshots; a subtree's, recomputed from the frames kept when it is chosen).
    """

    def __init__(
        self,
        *,
        exact: bool,
        share_basis: ShareBasis,
        keep: int = 300,
        frames: int = 60,
        min_dt: float = 0.0,
        started: bool = False,
    ) -> None:
        self._exact = exact
        self._basis = share_basis
        # Rates are measured over at least this long: a snapshot taken moments after the last
        # (the root's end is sampled at once) is compared with the one before, not turned into
        # a rate over a few milliseconds.
        self._min_dt = min_dt
        # Per-process frames for a scope's history: every listed process's figures, so fewer
        # than the sparklines' points (a build lists hundreds of processes a snapshot: 300
        # frames held ~60 MB); the whole tree's series keeps ``keep`` points.
        self._frames: deque[Frame] = deque(maxlen=frames)
        # ``started``: the tree began at t=0 with nothing done (a command we ran): the first
        # rates are measured from there, so what it did before the first snapshots is not lost
        # (a 100 MiB write done by then showed as a single point of 46 MiB/s, or none).
        self._origin = Frame(0.0, {}, {}) if started else None
        if self._origin is not None:
            self._frames.append(self._origin)
        # The points of a snapshot too soon after the last, which no frame keeps: the processes
        # that ended in it are listed there only, and count in the next frame's rates.
        self._dropped: Mapping[int, Point] = {}
        self._tree_series: deque[Rates] = deque(maxlen=keep)  # the whole tree's, always kept
        self.series = self._tree_series  # the scope's sparkline samples
        # Over the whole session for the whole tree; for a scope, over the frames kept.
        self._whole = self.extremes = Extremes()
        self.snapshot: Snapshot | None = None
        self.previous: Snapshot | None = None
        self._start: Snapshot | None = None  # the tree at t 0, when ``previous`` (_at_start)
        self.process_rates: dict[int, Rates] = {}
        self.folds = EndedFolds()
        # The latest ended processes, one by one: the scope of one no longer listed (the user
        # picks it in the tree after the run) is its subtree among them.
        self._ended: dict[int, ProcessSample] = {}
        self.scope: int | None = None
        self._scoped: tuple[int, Snapshot, SyscallSummary] | None = None

    def add(self, snap: Snapshot) -> None:
        before = self._frames[-1] if self._frames else None
        frame = Frame.of(snap, before)
        soon = before is not None and frame.t - before.t < self._min_dt
        begun = 0.0  # where a frame measured from the origin starts
        if soon and before is self._origin and snap.target.finished:
            # The whole of a run shorter than the wait: measured over the run itself (a 0.4 s
            # command showed no rate at all), from its start to its end where the kernel dated
            # both (the Summary's elapsed time), not from our start to the snapshot after it.
            soon = False
            span = _span(snap)
            if span is not None and 0.0 <= span[0] < span[1] <= frame.t:
                begun, frame = span[0], Frame(span[1], frame.points, frame.samples)
        if self._dropped:
            frame = Frame(frame.t, {**self._dropped, **frame.points}, frame.samples)
            self._dropped = {}
        if soon and before is self._origin:
            # Moments after the start: too short for a rate; the next is measured from it.
            self._dropped = _ended_points(frame)
            self.snapshot = snap
            self.folds.advance(snap)
            self._remember_ended(snap)
            return
        if soon:
            # The short step replaces the last one, rates and all, measured from the one before
            # (none yet: no rate, rather than a rate over a few milliseconds).
            replaced = self._frames.pop()
            frame = Frame(frame.t, {**_ended_points(replaced), **frame.points}, frame.samples)
            before = self._frames[-1] if self._frames else None
            for series in {id(s): s for s in (self.series, self._tree_series)}.values():
                if series:
                    series.pop()
            if before is None:
                self.previous = None
        else:
            self.previous = self.snapshot
            if before is self._origin:  # measured from the start: every call so far is new
                self._start = self.previous = _at_start(snap, begun)
        self.snapshot = snap
        self.folds.advance(snap)
        self._remember_ended(snap)
        if self._frames:
            # Only the newest frame keeps its samples (to know the next one's unchanged
            # processes): a window of whole snapshots would hold every table for minutes.
            self._frames[-1] = evolve(self._frames[-1], samples=None)
        self._frames.append(frame)
        if before is self._origin and begun:
            before = Frame(begun, {}, {})
        self.process_rates = process_rates(before, frame, self.process_rates)
        whole = tree_rates(before, frame)
        self._whole.add(whole)
        self._tree_series.append(whole)
        if self.scope is not None:
            self.series.append(tree_rates(before, frame, self.scope_pids()))
            self.extremes.add(self.series[-1])

    def set_scope(self, pid: int | None) -> None:
        """Scope to ``pid``'s subtree (None: everything); the sparklines are recomputed."""
        self.scope = pid
        if pid is None:
            self.series, self.extremes = self._tree_series, self._whole
        else:
            maxlen = self._tree_series.maxlen
            self.series = deque(history(self._frames, self.scope_pids()), maxlen=maxlen)
            self.extremes = Extremes(self.series)

    def scope_pids(self) -> frozenset[int] | None:
        if self.scope is None or not self._frames:
            return None
        points = self._frames[-1].points
        if self.scope in points:
            return subtree(points, self.scope)
        return subtree({**self._ended, **points}, self.scope)

    def process(self, pid: int) -> ProcessSample | None:
        """``pid`` as last seen: in the latest snapshot, or among the latest to end."""
        p = self.snapshot.process(pid) if self.snapshot is not None else None
        return p if p is not None else self._ended.get(pid)

    def _remember_ended(self, snap: Snapshot) -> None:
        ended = self._ended
        for p in snap.processes:
            if not p.alive:
                ended.pop(p.pid, None)
                ended[p.pid] = p  # the newest last
        while len(ended) > RECENT_ENDED:
            del ended[next(iter(ended))]

    def syscalls(self) -> tuple[SyscallSummary | None, SyscallSummary | None, float]:
        """Syscalls of the scope: now, at the previous snapshot, and the seconds between."""
        cur, prev = self.snapshot, self.previous
        if cur is None:
            return None, None, 0.0
        dt = cur.t - prev.t if prev is not None else 0.0
        if prev is not None and prev is self._start:  # (a short run's: to its end, not to cur)
            dt = self._frames[-1].t - prev.t
        pids = self.scope_pids()
        if pids is None or self.scope is None:
            return cur.syscalls, prev.syscalls if prev is not None else None, dt
        now = self._summary(cur, pids)
        before = None
        if prev is not None and prev is self._start:
            before = _zeroed(now)
        elif prev is not None:
            cached = self._scoped
            same = cached is not None and cached[0] == self.scope and cached[1] is prev
            before = cached[2] if same and cached is not None else self._summary(prev, pids)
        self._scoped = (self.scope, cur, now)
        return now, before, dt

    def _summary(self, snap: Snapshot, pids: frozenset[int]) -> SyscallSummary:
        sums = SyscallSums()
        listed = set()
        for p in snap.processes:
            listed.add(p.pid)
            if p.pid in pids:
                sums.add(p.syscalls_by_name)
                if (ended := self.folds.of(p.pid)) is not None:
                    sums.add_sums(ended)
        if self.scope not in listed:
            # Its root ended before: what it and its descendants did, as they ended (each
            # process's own table; what ended longer ago than the latest RECENT_ENDED is not in).
            for pid in pids - listed:
                if (q := self._ended.get(pid)) is not None:
                    sums.add(q.syscalls_by_name)
        return sums.summary(self._basis, exact=self._exact)


class EndedFolds:
    """What ended processes that are no longer listed counted, folded into their nearest
    listed ancestor: a subtree's syscalls include its descendants that ended long ago, while
    memory stays proportional to the processes listed."""

    def __init__(self) -> None:
        self._folds: dict[int, SyscallSums] = {}
        self._ended: dict[int, ProcessSample] = {}  # listed as ended in the previous snapshot

    def advance(self, snap: Snapshot) -> None:
        listed = {p.pid: p for p in snap.processes}
        # A schema-1 recording lists ended processes for ever: they fold only once gone.
        gone = {pid: p for pid, p in self._ended.items() if pid not in listed}
        for pid, p in gone.items():
            own = self._folds.pop(pid, None)
            parent, hops = p.ppid, 0
            while parent in gone and hops < len(gone):  # gone too: up to its own parent
                parent, hops = gone[parent].ppid, hops + 1
            if parent not in listed:
                continue  # outside the tree: no subtree holds it
            into = self._folds.get(parent)
            if into is None:
                into = self._folds[parent] = SyscallSums()
            into.add(p.syscalls_by_name)
            if own is not None:
                into.add_sums(own)
        self._ended = {p.pid: p for p in snap.processes if not p.alive}

    def of(self, pid: int) -> SyscallSums | None:
        return self._folds.get(pid)


class DeviceRates:
    """Each block device row's requests and bytes per second over the last interval in which
    it changed (a snapshot lists a device's row only when it changed: 0 for the others)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str, str], tuple[float, int, int]] = {}  # t, ops, bytes
        self.per_s: dict[tuple[str, str, str], tuple[float, float]] = {}

    def add(self, snap: Snapshot) -> None:
        changed = {(d.device, d.source, d.kind): d for d in snap.disks}
        for key in self.per_s:
            if key not in changed:
                self.per_s[key] = (0.0, 0.0)
        for key, d in changed.items():
            before = self._last.get(key)
            if before is not None and snap.t > before[0]:
                dt = snap.t - before[0]
                self.per_s[key] = ((d.ops - before[1]) / dt, (d.bytes - before[2]) / dt)
            self._last[key] = (snap.t, d.ops, d.bytes)
