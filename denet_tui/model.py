"""Frozen snapshot types: the one format for the JSON stream, recordings, exports and replay.

Counters are cumulative since the start of monitoring; rates are derived from two snapshots
(see ``denet_tui.rates``). A figure a source cannot give is ``None`` (JSON null), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from denet_tui.codec import decode, encode

SCHEMA_VERSION = 1

SyscallAccuracy = Literal["exact", "sampled"] | None
# What a category's `share` is a share of: kernel-measured time, call count (latency off),
# or sampler hits (the /proc collector's estimate).
ShareBasis = Literal["time", "count", "samples"] | None


DOC_FAMILIES = (
    'the probe families present (capabilities), each exact or sampled; e.g. {"syscalls": "exact"}'
)
DOC_ENDED_BY = (
    "why watching ended: finished (the root and every process of its tree ended), root_exited "
    "(--exit-with-root), time_limit (--duration), quit (q, ctrl+c, or a signal to denet-tui)"
)


def _frozen_map(m: Mapping | None) -> Mapping:
    return MappingProxyType(dict(m or {}))


class Codable:
    """``to_dict`` / ``from_dict`` for every type of the model, one generic way (``codec``)."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return encode(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Any:
        return decode(cls, d)


@dataclass(frozen=True, slots=True)
class SyscallStat(Codable):
    """Figures for one syscall name (in one process, or summed over a set of processes)."""

    category: str
    count: int | None = None
    errors: int | None = None
    time_ns: int | None = None
    # Sampler hits: how often a thread was seen blocked in this syscall (/proc estimate only).
    samples: int | None = None
    # log2 latency histogram: bucket i counts calls with duration in [2**i, 2**(i+1)) ns.
    hist: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class CategoryStat(Codable):
    count: int | None
    errors: int | None
    time_ns: int | None
    samples: int | None
    share: float | None = field(metadata={"maximum": 1.000001, "minimum": 0})


@dataclass(frozen=True, slots=True)
class SyscallSummary(Codable):
    """Syscalls of a set of processes: total, per category and per name."""

    total: int | None
    by_category: Mapping[str, CategoryStat]
    by_name: Mapping[str, SyscallStat]
    share_basis: ShareBasis = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_category", _frozen_map(self.by_category))
        object.__setattr__(self, "by_name", _frozen_map(self.by_name))


EMPTY_SYSCALLS = SyscallSummary(total=None, by_category={}, by_name={})


@dataclass(frozen=True, slots=True)
class ProcessSample(Codable):
    pid: int = field(metadata={"minimum": 1})
    ppid: int | None
    name: str
    cmdline: tuple[str, ...]
    alive: bool
    cpu_percent: float | None = None  # over the last interval; 100 = one core
    cpu_time_s: float | None = None  # cumulative user+system
    rss_bytes: int | None = None
    # What each figure is: denet_tui.figures (disk vs logical I/O, state letters, …).
    read_bytes: int | None = None
    write_bytes: int | None = None
    read_chars: int | None = None
    write_chars: int | None = None
    state: str | None = None
    threads: int | None = None
    ctx_voluntary: int | None = None
    ctx_involuntary: int | None = None
    minor_faults: int | None = None
    major_faults: int | None = None
    syscalls: int | None = None  # every syscall, exact (eBPF) — None when not counted
    read_syscalls: int | None = None  # /proc/PID/io syscr: exact read-family calls
    write_syscalls: int | None = None  # /proc/PID/io syscw
    syscalls_by_name: Mapping[str, SyscallStat] = field(default_factory=dict)
    # Why a None field is None, e.g. {"read_bytes": "permission denied"}.
    null_reasons: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "cmdline", tuple(self.cmdline))
        object.__setattr__(self, "syscalls_by_name", _frozen_map(self.syscalls_by_name))
        object.__setattr__(self, "null_reasons", _frozen_map(self.null_reasons))


TargetState = Literal["starting", "running", "stopped", "exited", "killed", "gone"]


@dataclass(frozen=True, slots=True)
class TargetStatus(Codable):
    pid: int = field(metadata={"minimum": 1})
    status: TargetState
    exit_code: int | None = None  # 128+N when killed by signal N; None while running / unknown
    signal: int | None = field(default=None, metadata={"minimum": 1})

    @property
    def finished(self) -> bool:
        return self.status in ("exited", "killed", "gone")


@dataclass(frozen=True, slots=True)
class Snapshot(Codable):
    KIND: ClassVar[str] = "snapshot"
    t: float  # seconds since monitoring started
    ts: float  # unix time
    target: TargetStatus
    processes: tuple[ProcessSample, ...]
    syscalls: SyscallSummary
    # Collector health: lost/dropped updates, effective sample rate, … (always measured).
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "processes", tuple(self.processes))
        object.__setattr__(self, "diagnostics", _frozen_map(self.diagnostics))

    def process(self, pid: int) -> ProcessSample | None:
        return next((p for p in self.processes if p.pid == pid), None)


@dataclass(frozen=True, slots=True)
class CollectorInfo(Codable):
    name: str  # "ebpf" | "procfs" | "replay"
    syscalls: SyscallAccuracy
    reason: str  # why this collector was chosen (or why the better one was not)
    share_basis: ShareBasis = None
    # The probe families present, each "exact" or "sampled" (capabilities, not modes).
    families: Mapping[str, Literal["exact", "sampled"]] = field(
        default_factory=dict, metadata={"doc": DOC_FAMILIES}
    )

    def __post_init__(self) -> None:
        families = self.families
        if not families and self.syscalls is not None:  # recordings made before families
            families = {"syscalls": self.syscalls}
        object.__setattr__(self, "families", _frozen_map(families))

    def has(self, family: str, accuracy: str | None = None) -> bool:
        """The family is present (and, if asked, ``accuracy`` is "exact" or "sampled")."""
        got = self.families.get(family)
        return got is not None and (accuracy is None or got == accuracy)


@dataclass(frozen=True, slots=True)
class Watched(Codable):
    """What is watched: how (``run``, ``attach``), the command line, and the root PID."""

    mode: Literal["run", "attach", "replay"]
    cmd: tuple[str, ...]
    pid: int = field(metadata={"minimum": 1})


@dataclass(frozen=True, slots=True)
class Meta(Codable):
    KIND: ClassVar[str] = "meta"
    tool_version: str
    host: str
    kernel: str
    target: Watched
    collector: CollectorInfo
    interval: float = field(metadata={"exclusiveMinimum": 0})
    started_ts: float
    schema: int = field(default=SCHEMA_VERSION, metadata={"const": SCHEMA_VERSION})

    @property
    def mode(self) -> str:
        return self.target.mode

    @property
    def cmd(self) -> tuple[str, ...]:
        return self.target.cmd

    @property
    def pid(self) -> int:
        return self.target.pid


EndedBy = Literal["finished", "root_exited", "time_limit", "quit"]


@dataclass(frozen=True, slots=True)
class End(Codable):
    """The closing JSON line: why it ended, exit status, duration and the final totals."""

    KIND: ClassVar[str] = "end"
    ended_by: EndedBy = field(metadata={"doc": DOC_ENDED_BY})
    exit_code: int | None
    status: TargetState
    signal: int | None
    duration_s: float
    processes_seen: int
    syscalls: SyscallSummary


def end_record(last: Snapshot, ended_by: EndedBy) -> dict[str, Any]:
    """The closing JSON line of a stream or recording."""
    return End(
        ended_by=ended_by,
        exit_code=last.target.exit_code,
        status=last.target.status,
        signal=last.target.signal,
        duration_s=last.t,
        processes_seen=len(last.processes),
        syscalls=last.syscalls,
    ).to_dict()


def export_record(meta: Meta, snap: Snapshot) -> dict[str, Any]:
    """One snapshot object with the meta fields under ``meta`` (``--export`` and the export key)."""
    d = snap.to_dict()
    d["meta"] = meta.to_dict()
    return d


def summarize(
    processes: Iterable[ProcessSample], share_basis: ShareBasis, *, exact: bool
) -> SyscallSummary:
    """Sum per-process syscall figures into one summary (the whole tree, or a scoped subtree).

    ``exact`` says whether counts are kernel-exact; when they are not, totals stay None.
    """
    from denet_tui.syscalls import CATEGORIES  # local: syscalls imports nothing from here

    by_name: dict[str, list[int | None]] = {}
    cats: dict[str, str] = {}
    hists: dict[str, list[int]] = {}
    for p in processes:
        for name, s in p.syscalls_by_name.items():
            acc = by_name.setdefault(name, [None, None, None, None])
            cats[name] = s.category
            for i, v in enumerate((s.count, s.errors, s.time_ns, s.samples)):
                if v is not None:
                    acc[i] = (acc[i] or 0) + v
            if s.hist is not None:
                h = hists.setdefault(name, [0] * len(s.hist))
                for i, v in enumerate(s.hist):
                    h[i] += v
    names = {
        n: SyscallStat(
            category=cats[n],
            count=a[0],
            errors=a[1],
            time_ns=a[2],
            samples=a[3],
            hist=tuple(hists[n]) if n in hists else None,
        )
        for n, a in by_name.items()
    }
    basis_index = {"count": 0, "time": 2, "samples": 3}.get(share_basis or "")
    cat_acc: dict[str, list[int | None]] = {c: [None, None, None, None] for c in CATEGORIES}
    for n, a in by_name.items():
        acc = cat_acc[cats[n]]
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
            share=((a[basis_index] or 0) / denom) if denom and basis_index is not None else None,
        )
        for c, a in cat_acc.items()
    }
    total = sum(a[0] or 0 for a in by_name.values()) if exact else None
    return SyscallSummary(
        total=total, by_category=by_category, by_name=names, share_basis=share_basis
    )
