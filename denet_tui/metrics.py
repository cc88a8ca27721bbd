"""The metrics a watched run exports (Prometheus, OpenTelemetry), declared once and built from the
snapshots: names, types, help and values, with no server or client library here.

Names follow Prometheus's rules: a ``denet_`` prefix, base units (seconds, bytes), ``_total`` on
counters. Every series carries ``group`` (the watched job: ``--name``, or the root command's
name). Labels never carry a pid, a path or an address, so the number of series is bounded:

- the tree: one counter per counter figure of :mod:`denet_tui.figures` (``denet_tree_*``, every
  process ever seen), the live processes' RSS and threads, the tree's peaks, the process counts;
- syscalls: per syscall name and per category (a fixed set: the kernel's table);
- per command (processes grouped by name), the OpenTelemetry process metrics under Prometheus
  names (``process.cpu.time`` → ``denet_process_cpu_time_seconds_total``, …), for at most
  ``top`` commands, chosen by CPU time as they reach the top and kept from then on; the others
  are summed in ``command="other"``. A command's series counts from the snapshot it got one
  (what it did before is in ``other``), so every series only grows and the series of a metric
  add up to the whole;
- the collector's own losses (``denet_lost_events_total{kind}``) and how many commands are
  folded into ``other``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from denet_tui.figures import COUNTERS, Figure, figure
from denet_tui.model import PEAKS, ProcessSample, Snapshot

Kind = Literal["counter", "gauge"]
PREFIX = "denet_"
OTHER = "other"
DEFAULT_TOP = 20  # commands with series of their own
TREE_GAUGES = ("rss_bytes", "threads")  # summed over the live processes


def base_name(key: str) -> str:
    """A figure's key in Prometheus's base units: ``cpu_time_s`` -> ``cpu_time_seconds``."""
    return key[:-2] + "_seconds" if key.endswith("_s") else key


def tree_name(f: Figure) -> str:
    return f"{PREFIX}tree_{base_name(f.key)}" + ("_total" if f.counter else "")


@dataclass(frozen=True, slots=True)
class ProcessMetric:
    """A per-command metric mirroring an OpenTelemetry process metric: its figures, each under
    a value of ``attribute`` (None: one figure, no attribute)."""

    name: str  # without the prefix
    otel: str  # the OpenTelemetry semantic-conventions name
    kind: Kind
    unit: str  # OpenTelemetry's unit
    parts: tuple[tuple[str, str | None], ...]  # (figure key, attribute value)
    attribute: str | None
    doc: str


PROCESS_METRICS: tuple[ProcessMetric, ...] = (
    ProcessMetric(
        "process_cpu_time_seconds_total", "process.cpu.time", "counter", "s",
        (("cpu_user_s", "user"), ("cpu_system_s", "system")), "cpu_mode",
        "CPU time of the command's processes, user and system",
    ),
    ProcessMetric(
        "process_memory_usage_bytes", "process.memory.usage", "gauge", "By",
        (("rss_bytes", None),), None, "resident memory of the command's live processes",
    ),
    ProcessMetric(
        "process_disk_io_bytes_total", "process.disk.io", "counter", "By",
        (("read_bytes", "read"), ("write_bytes", "write")), "disk_io_direction",
        "bytes the command's processes read from and wrote to storage (/proc/PID/io)",
    ),
    ProcessMetric(
        "process_network_io_bytes_total", "process.network.io", "counter", "By",
        (("net_rx_bytes", "receive"), ("net_tx_bytes", "transmit")), "network_io_direction",
        "bytes the command's processes received and sent through sockets (network family)",
    ),
    ProcessMetric(
        "process_context_switches_total", "process.context_switches", "counter", "{count}",
        (("ctx_voluntary", "voluntary"), ("ctx_involuntary", "involuntary")),
        "process_context_switch_type", "context switches of the command's processes",
    ),
    ProcessMetric(
        "process_paging_faults_total", "process.paging.faults", "counter", "{fault}",
        (("major_faults", "major"), ("minor_faults", "minor")), "process_paging_fault_type",
        "page faults of the command's processes",
    ),
    ProcessMetric(
        "process_syscalls_total", "process.syscalls", "counter", "{call}",
        (("syscalls", None),), None, "system calls of the command's processes",
    ),
)  # fmt: skip
PROCESS_KEYS = tuple(dict.fromkeys(k for m in PROCESS_METRICS for k, _ in m.parts))


_GETTERS = tuple(figure(k) for k in PROCESS_KEYS)
ZERO = (0,) * len(PROCESS_KEYS)
CPU = (PROCESS_KEYS.index("cpu_user_s"), PROCESS_KEYS.index("cpu_system_s"))
RSS = PROCESS_KEYS.index("rss_bytes")  # the one gauge: only live processes hold memory


def _figures(p: ProcessSample) -> tuple[float, ...]:
    """A process's PROCESS_KEYS figures (0 where unknown: a sum of what is known)."""
    return tuple((f.of(p) or 0) for f in _GETTERS)


def _add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _without_rss(figs: tuple[float, ...]) -> tuple[float, ...]:
    return figs[:RSS] + (0,) + figs[RSS + 1 :]


ProcessKey = tuple[int, float | None]  # pid, start time


class CommandTotals:
    """Per command (process name), the figures of every process it ran: the ended ones folded
    in once, the live ones as they are now; and which commands have series of their own.
    Each update costs in proportion to the snapshot's processes; the series are made once per
    update, when first read."""

    def __init__(self, top: int = DEFAULT_TOP) -> None:
        self.top = top
        self._ended: dict[str, tuple[float, ...]] = {}
        self._live: dict[ProcessKey, tuple[str, tuple[float, ...], ProcessSample]] = {}
        self._gone: set[ProcessKey] = set()  # ended, as the last snapshot listed them
        self._totals: dict[str, tuple[float, ...]] = {}
        self._series: dict[str, tuple[float, ...]] | None = None
        self.named: dict[str, tuple[float, ...]] = {}  # command -> its figures when named
        self.commands: set[str] = set()

    def update(self, processes: Iterable[ProcessSample]) -> None:
        """A snapshot's processes: each ended one is folded in the first time it is listed
        ended; a live one that went unlisted keeps its last figures."""
        live: dict[ProcessKey, tuple[str, tuple[float, ...], ProcessSample]] = {}
        gone: set[ProcessKey] = set()
        for p in processes:
            key = (p.pid, p.start_ts)
            if p.alive:
                was = self._live.get(key)
                # The collector hands an unchanged process's sample again: its figures too.
                live[key] = was if was is not None and was[2] is p else (p.name, _figures(p), p)
                continue
            gone.add(key)
            if key not in self._gone:
                self._fold(p.name, _figures(p))
        for key, (name, figs, _p) in self._live.items():
            if key not in live and key not in gone:
                self._fold(name, figs)
        self._live, self._gone = live, gone
        before, self._totals = self._totals, dict(self._ended)
        for name, figs, _p in live.values():
            got = self._totals.get(name)
            self._totals[name] = figs if got is None else _add(got, figs)
        self.commands.update(self._totals)
        self._series = None
        self._name_the_top(before)

    def _fold(self, name: str, figs: tuple[float, ...]) -> None:
        self._ended[name] = _add(self._ended.get(name, ZERO), _without_rss(figs))

    def totals(self) -> dict[str, tuple[float, ...]]:
        """Every command's figures (RSS: its live processes' now)."""
        return self._totals

    def _name_the_top(self, before: dict[str, tuple[float, ...]]) -> None:
        """Free places go to the unnamed commands with the most CPU time; a command's series
        starts from what was in ``other`` for it at the previous update (nothing, if it is
        new), so ``other`` never goes down."""
        free = self.top - len(self.named)
        if free <= 0:
            return
        totals = self._totals
        unnamed = [n for n in totals if n not in self.named and n != OTHER]
        unnamed.sort(key=lambda n: -(totals[n][CPU[0]] + totals[n][CPU[1]]))
        for name in unnamed[:free]:
            self.named[name] = _without_rss(before.get(name, ZERO))

    def series(self) -> dict[str, tuple[float, ...]]:
        """Per named command, its figures since it was named; the rest, and what the named ones
        did before, under ``other``: each series only grows, and they add up to the whole."""
        if self._series is not None:
            return self._series
        out: dict[str, tuple[float, ...]] = {}
        rest = ZERO
        for name, figs in self._totals.items():
            base = self.named.get(name)
            if base is None:
                rest = _add(rest, figs)
            else:
                out[name] = tuple(f - b for f, b in zip(figs, base, strict=True))
                rest = _add(rest, base)
        out[OTHER] = rest
        self._series = out
        return out

    @property
    def folded(self) -> int:
        """Commands seen without series of their own."""
        return len(self.commands - self.named.keys())


def lost_counts(diagnostics: Mapping[str, Any]) -> dict[str, int]:
    """The collector's counts of what it could not keep (full maps, lost events, rows left
    out), by diagnostics key."""
    return {
        k: v
        for k, v in diagnostics.items()
        if isinstance(v, int)
        and not isinstance(v, bool)
        and (k == "lost" or k.endswith(("_lost", "_full", "_left_out")))
    }


@dataclass(frozen=True, slots=True)
class Run:
    """What the metrics are made from: the latest snapshot, the per-command totals, and the
    ``denet_info`` labels."""

    snap: Snapshot
    commands: CommandTotals
    info: Mapping[str, str]


Values = Iterable[tuple[tuple[str, ...], float]]  # (label values, value)


@dataclass(frozen=True, slots=True)
class Declared:
    """One metric: its name, type, help, labels besides ``group``, and how its samples are
    read from a :class:`Run` (none: not measured here)."""

    name: str
    kind: Kind
    doc: str
    labels: tuple[str, ...]
    values: Callable[[Run], Values]


@dataclass(frozen=True, slots=True)
class Metric:
    """One metric family as built: its samples as (labels, value)."""

    name: str
    kind: Kind
    doc: str
    samples: tuple[tuple[Mapping[str, str], float], ...]


def _one(v: float | None) -> Values:
    return () if v is None else (((), v),)


def _tree_counter(f: Figure) -> Declared:
    return Declared(
        tree_name(f),
        "counter",
        "the tree, every process ever seen, summed: " + f.doc,
        (),
        lambda r: _one(getattr(r.snap.totals, f.key)),
    )


def _tree_gauge(key: str) -> Declared:
    def values(r: Run) -> Values:
        known = [v for p in r.snap.processes if p.alive and (v := getattr(p, key)) is not None]
        live = sum(1 for p in r.snap.processes if p.alive)
        return _one(sum(known) if known or not live else None)  # none alive: 0

    doc = figure(key).doc + " (summed over the live processes)"
    return Declared(tree_name(figure(key)), "gauge", doc, (), values)


def _syscalls(what: str, label: str, field: str, scale: float, doc: str) -> Declared:
    suffix = {"count": "calls_total", "errors": "errors_total", "time_ns": "time_seconds_total"}
    by = "by_name" if label == "syscall" else "by_category"

    def values(r: Run) -> Values:
        for name, stat in sorted(getattr(r.snap.syscalls, by).items()):
            v = getattr(stat, field)
            if v is not None:
                yield (name,), v * scale

    return Declared(f"{PREFIX}{what}_{suffix[field]}", "counter", f"{doc}, by {label}",
                    (label,), values)  # fmt: skip


def _process(m: ProcessMetric) -> Declared:
    def values(r: Run) -> Values:
        for name, figs in r.commands.series().items():
            for key, value in m.parts:
                labels = (name,) if value is None else (name, value)
                yield labels, figs[PROCESS_KEYS.index(key)]

    labels = ("command",) if m.attribute is None else ("command", m.attribute)
    return Declared(PREFIX + m.name, m.kind, f"{m.doc} (OpenTelemetry: {m.otel})", labels, values)


INFO_LABELS = ("collector", "target", "tool_version")
SYSCALL_FIGURES = (
    ("count", 1.0, "calls"),
    ("errors", 1.0, "calls that failed"),
    ("time_ns", 1e-9, "time spent in the calls"),
)
DECLARED: tuple[Declared, ...] = (
    Declared(f"{PREFIX}info", "gauge", "what is watched (the target: run or attach), by what "
             "(the collector), always 1", INFO_LABELS,
             lambda r: (((*(r.info[k] for k in INFO_LABELS),), 1),)),
    *(_tree_counter(f) for f in COUNTERS),
    *(_tree_gauge(k) for k in TREE_GAUGES),
    *(Declared(f"{PREFIX}tree_{key}", "gauge", doc, (),
               lambda r, key=key: _one(getattr(r.snap.totals, key)))
      for key, doc in PEAKS.items()),
    Declared(f"{PREFIX}tree_processes_live", "gauge", "processes alive now", (),
             lambda r: _one(r.snap.totals.processes_live)),
    Declared(f"{PREFIX}tree_processes_seen_total", "counter", "processes ever seen", (),
             lambda r: _one(r.snap.totals.processes_seen)),
    Declared(f"{PREFIX}tree_processes_ended_total", "counter", "processes that ended", (),
             lambda r: _one(r.snap.totals.processes_ended)),
    *(_syscalls(what, label, field, scale, doc)
      for what, label in (("syscall", "syscall"), ("syscall_category", "category"))
      for field, scale, doc in SYSCALL_FIGURES),
    *(_process(m) for m in PROCESS_METRICS),
    Declared(f"{PREFIX}process_commands_folded", "gauge",
             f'commands without series of their own, summed in command="{OTHER}"', (),
             lambda r: _one(r.commands.folded)),
    Declared(f"{PREFIX}lost_events_total", "counter", "what the collector could not keep (full "
             "maps, lost events, rows left out), by its diagnostics key", ("kind",),
             lambda r: (((k,), v) for k, v in sorted(lost_counts(r.snap.diagnostics).items()))),
)  # fmt: skip


def build(run: Run, group: str) -> list[Metric]:
    """Every declared metric with its samples as of ``run``."""
    return [
        Metric(
            d.name,
            d.kind,
            d.doc,
            tuple(
                ({"group": group, **dict(zip(d.labels, labels, strict=True))}, float(v))
                for labels, v in d.values(run)
            ),
        )
        for d in DECLARED
    ]


FIXED_SERIES = sum(1 for d in DECLARED if not d.labels or d.labels == INFO_LABELS)
PER_COMMAND_SERIES = sum(len(m.parts) for m in PROCESS_METRICS)


def series_bound(top: int, syscalls: int, categories: int, lost_kinds: int) -> int:
    """The most series a run can have: the fixed ones, three per syscall name that occurred and
    per category (the collector lists every category), one per loss counter of the collector,
    and per command with series of its own (and ``other``) one per part of each per-command
    metric."""
    return FIXED_SERIES + 3 * (syscalls + categories) + lost_kinds + PER_COMMAND_SERIES * (top + 1)


def markdown() -> str:
    """The metric list, for docs/metrics.md."""
    lines = [
        "# Metrics (`--prometheus`)",
        "",
        "Generated from `denet_tui/metrics.py` by `scripts/gen_metrics_doc.py`; the tree's",
        "counters come from the figures declared once in `denet_tui/figures.py`, so a new",
        "figure appears here and in the endpoint alike.",
        "",
        *(ln.replace("``", "`").replace(":mod:", "") for ln in (__doc__ or "").splitlines()[3:]),
        "",
        f"Series at most: {FIXED_SERIES} fixed; 3 per syscall name that occurred and 3 per",
        "syscall category (12); one per loss counter of the collector (a fixed set: its",
        f"`diagnostics` keys `lost`, `*_lost`, `*_full`, `*_left_out`); {PER_COMMAND_SERIES} per",
        "command with series "
        f"of its own (`--prometheus-top N`, default {DEFAULT_TOP}) and for `other`. Until the",
        "first snapshot (the eBPF programs compiling, a few seconds) the endpoint answers with",
        "no series.",
        "",
        "| name | type | labels besides `group` | what |",
        "|---|---|---|---|",
    ]
    for d in DECLARED:
        labels = ", ".join(f"`{x}`" for x in d.labels) or "—"
        lines.append(f"| `{d.name}` | {d.kind} | {labels} | {d.doc.replace('|', '/')} |")
    return "\n".join(lines) + "\n"
