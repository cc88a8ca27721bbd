"""Every per-process figure, declared once: what it is called, which family measures it, where
it lives in a :class:`~denet_tui.model.ProcessSample`, its unit, whether it is a counter
(cumulative: shown as a rate per second, summed into the tree's totals), its labels on screen
and its description. The JSON Schema's descriptions, the rates, the sparklines, the tree's
columns and the tree totals read it from here (and, later, the Prometheus names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Literal

from denet_tui.codec import tuple_getter

Unit = Literal["percent", "seconds", "bytes", "calls", "count", "state", "timestamp"]


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # unique; the ProcessSample field, or the section's field when ``section`` is set
    family: str  # "proc" (read from /proc by every live collector) or a probe family
    unit: Unit
    counter: bool  # cumulative since the start: its change per second is the rate shown
    label: str  # a sparkline's label (the rate of a counter)
    column: str  # the tree's column title (the rate of a counter)
    doc: str
    section: str | None = None  # the ProcessSample field holding the family's section
    field: str | None = None  # the field within the section (default: ``key``)

    def of(self, p: Any) -> Any:
        """This figure of process ``p`` (None where unknown, or its family's section absent)."""
        if self.section is None:
            return getattr(p, self.key)
        part = getattr(p, self.section)
        return None if part is None else getattr(part, self.field or self.key)


# Figures summed over a process's threads from /proc: one that ended counts with its last
# reading (what it did after it is in the process's exit record).
ENDED_THREADS = " (a thread that ended: its last reading, until the exit record)"


def _proc(key: str, unit: Unit, counter: bool, label: str, column: str, doc: str) -> Figure:
    return Figure(key, "proc", unit, counter, label, column, doc)


FIGURES: tuple[Figure, ...] = (
    _proc(
        "cpu_percent",
        "percent",
        False,
        "CPU",
        "CPU%",
        "CPU over the last interval; 100 = one core (the first reading: since the process started)",
    ),
    _proc(
        "cpu_time_s",
        "seconds",
        True,
        "CPU",
        "TIME+",
        "CPU time, user + system, of the whole process; cumulative: the scheduler's time of its "
        "threads to the nanosecond (/proc/PID/task/*/schedstat)" + ENDED_THREADS + ", or the "
        "tick-counted utime + stime where more (they hold all of ended threads'); at exit, the "
        "exit record's",
    ),
    _proc(
        "cpu_user_s",
        "seconds",
        True,
        "user CPU",
        "USER",
        "CPU time in user mode, as the kernel splits it for getrusage and /proc/PID/stat: the "
        "exact total in the tick-sampled user:system ratio (utime; at exit, the exit record's "
        "cpu_run_virtual_total in its ac_utime:ac_stime ratio); cumulative",
    ),
    _proc(
        "cpu_system_s",
        "seconds",
        True,
        "system CPU",
        "SYS",
        "CPU time in the kernel on the process's behalf, as the kernel splits it (the rest of "
        "the exact total: stime, or at exit the exit record's share); cumulative",
    ),
    _proc(
        "runq_wait_s",
        "seconds",
        True,
        "waiting for CPU",
        "RUNQ%",
        "time runnable but waiting for a CPU (run queue), summed over the threads: with the "
        "sched family every thread's, ended ones too; else /proc/PID/task/*/schedstat's"
        + ENDED_THREADS
        + " (at exit, every thread's, from the exit record); "
        "cumulative. As a rate: the share of wall time spent waiting",
    ),
    _proc("rss_bytes", "bytes", False, "RSS", "RSS", "resident memory now"),
    _proc(
        "peak_rss_bytes",
        "bytes",
        False,
        "peak RSS",
        "MAXRSS",
        "the largest resident memory of the process since its last exec (VmHWM's meaning): "
        "with the memory family, the larger of VmHWM at the last reading of /proc and the "
        "kernel's counters at each change of its memory (exact, also for a process /proc never "
        "read; for a process followed from its fork, with the sched family too, the kernel's "
        "alone: its status file is not read); without it, VmHWM at the last reading (a process "
        "that grew since peaked "
        "higher); at exit, the exit record's hiwater_rss",
    ),
    _proc(
        "read_bytes",
        "bytes",
        True,
        "disk read",
        "DISK R/s",
        "disk: bytes this process caused to be read from storage (/proc/PID/task/*/io read_bytes)"
        + ENDED_THREADS
        + "; "
        "cumulative",
    ),
    _proc(
        "write_bytes",
        "bytes",
        True,
        "disk write",
        "DISK W/s",
        "disk: bytes this process caused to be sent to storage (/proc/PID/task/*/io write_bytes)"
        + ENDED_THREADS
        + "; "
        "cumulative",
    ),
    _proc(
        "read_chars",
        "bytes",
        True,
        "I/O read",
        "IO R/s",
        "logical I/O: bytes returned by read()-family calls, whatever the source (disk, page "
        "cache, pipe, socket, tty): /proc/PID/task/*/io rchar" + ENDED_THREADS + "; cumulative",
    ),
    _proc(
        "write_chars",
        "bytes",
        True,
        "I/O write",
        "IO W/s",
        "logical I/O: bytes passed to write()-family calls: /proc/PID/task/*/io wchar"
        + ENDED_THREADS
        + "; cumulative",
    ),
    _proc(
        "state",
        "state",
        False,
        "state",
        "ST",
        "scheduler state from /proc/PID/stat: R running, S sleeping, D uninterruptible "
        "(disk), T stopped, t traced, Z zombie, X dead, I idle",
    ),
    _proc("threads", "count", False, "threads", "THR", "threads now"),
    _proc(
        "ctx_voluntary",
        "count",
        True,
        "vol. switches",
        "VCSW/s",
        "voluntary context switches (the process waited): with the sched family every "
        "thread's, ended ones too (for a process followed from its fork, with the memory family "
        "too, the kernel's alone: its status files are not read); else summed over its "
        "threads (/proc/PID/task/*/status)" + ENDED_THREADS + "; cumulative",
    ),
    _proc(
        "ctx_involuntary",
        "count",
        True,
        "invol. switches",
        "ICSW/s",
        "involuntary context switches (the process was preempted): counted as the voluntary "
        "ones are; cumulative",
    ),
    _proc(
        "minor_faults",
        "count",
        True,
        "minor faults",
        "MINFLT/s",
        "page faults served without I/O: /proc/PID/stat minflt, or with the memory family the "
        "kernel's count (perf software events, from when the process is followed) if larger; "
        "at exit, the exit record's; cumulative",
    ),
    _proc(
        "major_faults",
        "count",
        True,
        "major faults",
        "MAJFLT/s",
        "page faults that needed I/O (majflt; the same sources as minor_faults); cumulative",
    ),
    _proc(
        "read_syscalls",
        "calls",
        True,
        "r/w calls",
        "rw/s",
        "read-family calls (/proc/PID/task/*/io syscr)" + ENDED_THREADS + "; cumulative",
    ),
    _proc(
        "write_syscalls",
        "calls",
        True,
        "r/w calls",
        "rw/s",
        "write-family calls (/proc/PID/task/*/io syscw)" + ENDED_THREADS + "; cumulative",
    ),
    Figure(
        "syscalls",
        "syscalls",
        "calls",
        True,
        "syscalls",
        "sc/s",
        "every syscall of the process, counted in the kernel; cumulative (null when sampled)",
        section="syscalls",
        field="count",
    ),
)


def _sched(key: str, unit: Unit, label: str, column: str, doc: str) -> Figure:
    return Figure(key, "sched", unit, True, label, column, doc, section="sched")


SCHED_DOC = (
    ", summed over its threads (eBPF: the sched family's state machine on sched_switch and "
    "sched_wakeup, to the nanosecond, the open interval up to the snapshot; /proc: on CPU and "
    "waiting from schedstat, asleep and D estimated from thread states sampled ~100 times a "
    "second); cumulative. As a "
    "rate: the share of wall time (over 100 % with several threads)"
)
FIGURES += (
    _sched("on_cpu_s", "seconds", "on CPU", "ONCPU%", "time running on a CPU" + SCHED_DOC),
    _sched(
        "waiting_cpu_s",
        "seconds",
        "waiting for CPU",
        "WAIT%",
        "time runnable but waiting for a CPU: woken or preempted, not yet running" + SCHED_DOC,
    ),
    _sched(
        "sleeping_s",
        "seconds",
        "sleeping",
        "SLEEP%",
        "time asleep off the run queue (S; also stopped, traced and idle states), waiting for "
        "an event, a timer, a lock or input; each nap is counted when it ends (its wakeup, or "
        "the thread's exit), not while it lasts"
        + SCHED_DOC.replace(", the open interval up to the snapshot", ""),
    ),
    _sched(
        "uninterruptible_s",
        "seconds",
        "D state",
        "D%",
        "time in uninterruptible sleep (D): waiting in the kernel, mostly for disk I/O" + SCHED_DOC,
    ),
    _sched(
        "voluntary_switches",
        "count",
        "vol. switches",
        "VCSW/s",
        "times a thread left the CPU to wait (any state but runnable), counted at each switch; "
        "cumulative",
    ),
    _sched(
        "involuntary_switches",
        "count",
        "invol. switches",
        "ICSW/s",
        "times a thread was preempted (left the CPU still runnable), counted at each switch; "
        "cumulative",
    ),
)


def _net(key: str, unit: Unit, label: str, column: str, doc: str) -> Figure:
    return Figure(key, "network", unit, True, label, column, doc, "net", key.removeprefix("net_"))


NET_DOC = (
    "; every socket of the process (unix, TCP, UDP, other), from the kernel's sock_send_length "
    "and sock_recv_length tracepoints in the process's own context (the network family), "
    "cumulative; /proc has no per-process network counter: null there"
)
FIGURES += (
    _net("net_rx_bytes", "bytes", "net recv", "NET RX/s", "bytes received" + NET_DOC),
    _net("net_tx_bytes", "bytes", "net send", "NET TX/s", "bytes sent" + NET_DOC),
    _net("net_rx_calls", "calls", "recv calls", "RXC/s", "receive calls, failed too" + NET_DOC),
    _net("net_tx_calls", "calls", "send calls", "TXC/s", "send calls, failed too" + NET_DOC),
    *(
        _net(f"net_{kind}_{way}_bytes", "bytes", f"{kind} {way}", f"{kind.upper()}{way.upper()}/s",
             f"bytes {'received' if way == 'rx' else 'sent'} through {kind} sockets" + NET_DOC)
        for kind in ("unix", "tcp", "udp", "other")
        for way in ("rx", "tx")
    ),
)  # fmt: skip


def _blk(key: str, unit: Unit, label: str, column: str, doc: str) -> Figure:
    return Figure(key, "disk", unit, True, label, column, doc, "disk", key.removeprefix("blk_"))


BLK_DOC = (
    " that the kernel started in the process's own context (block:block_io_start: its reads, "
    "its direct and synchronous writes; pages it dirtied and the kernel flushes later are the "
    "device's writeback, not the process's), the disk family; cumulative"
)
FIGURES += (
    _blk("blk_read_bytes", "bytes", "block read", "BLK R/s", "bytes of read requests" + BLK_DOC),
    _blk("blk_write_bytes", "bytes", "block write", "BLK W/s", "bytes of write requests" + BLK_DOC),
    _blk("blk_read_ops", "count", "block reads", "BLKRD/s", "block read requests" + BLK_DOC),
    _blk("blk_write_ops", "count", "block writes", "BLKWR/s", "block write requests" + BLK_DOC),
)  # fmt: skip

BY_KEY = {f.key: f for f in FIGURES}
# The figures with a number (every one but the state letter), in declaration order.
NUMERIC: tuple[Figure, ...] = tuple(f for f in FIGURES if f.unit != "state")
COUNTERS: tuple[Figure, ...] = tuple(f for f in FIGURES if f.counter)


def figure(key: str) -> Figure:
    return BY_KEY[key]


def values_getter(figures: tuple[Figure, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A function giving ``figures`` of a process as one tuple, in their order, like
    ``tuple(f.of(p) for f in figures)`` at a third of the cost: the rates and the tree's
    totals read dozens of figures of every process that changed, hundreds a second."""
    groups: dict[str | None, list[int]] = {}
    for i, f in enumerate(figures):
        groups.setdefault(f.section, []).append(i)
    parts = []  # (section or None, getter of its fields as a tuple, its all-None tuple)
    for section, indices in groups.items():
        names = [figures[i].field or figures[i].key for i in indices]
        parts.append((section, tuple_getter(names), (None,) * len(names)))
    # The values come grouped by section: back into the figures' order.
    grouped = [i for indices in groups.values() for i in indices]
    order = sorted(range(len(grouped)), key=grouped.__getitem__)
    pick = itemgetter(*order) if len(order) > 1 else tuple

    def get(p: Any) -> tuple[Any, ...]:
        out: tuple[Any, ...] = ()
        for section, g, nones in parts:
            if section is None:
                out += g(p)
            else:
                part = getattr(p, section)
                out += nones if part is None else g(part)
        return pick(out)

    return get
