"""Frozen snapshot types: the one format for the JSON stream, recordings, exports and replay.

Counters are cumulative since the start of monitoring; rates are derived from two snapshots
(see ``denet_tui.rates``). A figure a source cannot give is ``None`` (JSON null), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, make_dataclass
from types import MappingProxyType
from typing import Any, ClassVar, Literal

from denet_tui.codec import decode, encode
from denet_tui.figures import BY_KEY, COUNTERS

SCHEMA_VERSION = 5

SyscallAccuracy = Literal["exact", "sampled"] | None
# What a category's `share` is a share of: kernel-measured time, call count (latency off),
# or sampler hits (the /proc collector's estimate).
ShareBasis = Literal["time", "count", "samples"] | None


DOC_FAMILIES = (
    'the probe families present (capabilities), each exact or sampled; e.g. {"syscalls": "exact"}'
)
DOC_BY_NAME = (
    "per syscall name, [count, errors, time_ns, samples] (each null where the collector has "
    "no such figure; the name's category is in the snapshot's syscalls.by_name). In a JSON "
    "line, null means unchanged since the previous snapshot that listed this process (same pid "
    "and start_ts): read it from there. Schema 2 wrote each as a syscall_stat object"
)
DOC_NULL_REASONS = (
    'why a null figure is null, by figure name (e.g. {"read_bytes": "permission denied"}), or by '
    'family name for a reason that holds for every figure of that family (e.g. {"proc": '
    '"process ended before /proc could be read"}: every figure read from /proc)'
)
DOC_START = "unix time the process started (null: unknown)"
DOC_END = (
    "unix time the process ended (null while it runs, or when the collector cannot tell: see "
    "null_reasons): with the sched family, its last thread's last switch off a CPU, after its "
    "exit's teardown (freeing its memory, closing its files), which its CPU time counts; "
    "without it, when it began to exit (the kernel's sched_process_exit), and a short "
    "process's CPU time can exceed end_ts - start_ts by the teardown"
)
DOC_EXIT = (
    "the process's exit status once it ended: its exit code, or 128+N when killed by signal N "
    "(null while it runs, or when not seen: see null_reasons); killed_by_signal tells the two "
    "apart"
)
DOC_KILLED_BY = (
    "the signal that killed the process (its number; exit_code is then 128+N); null when it "
    "exited by itself, runs, or its exit status is not known (exit_code null). Schema 5 on: "
    "earlier recordings cannot tell an exit(143) from a SIGTERM"
)
DOC_PROCESSES = (
    "the processes alive now, plus those that ended since the previous snapshot (each listed "
    "once more, with its final figures, then no more); schema 1 listed every process ever seen"
)
DOC_UNKNOWN = (
    "per figure, how many processes the total leaves out because they have no such figure "
    "(e.g. they ended before /proc could read them): the total is then a lower bound (a figure "
    "with no total at all is not listed)"
)
DOC_TOTALS = (
    "the tree's counters over every process ever seen, alive or ended (nothing is lost when a "
    "process leaves `processes`)"
)
# The tree's peak memory, two ways (what `/usr/bin/time -v` calls maximum resident set size is
# the first: the largest of any one process).
PEAKS = {
    "peak_rss_max_bytes": "the largest peak RSS of any one process of the tree, alive or ended "
    "(each process's peak_rss_bytes: exact at exit where exit records give it)",
    "rss_sum_peak_bytes": "the peak of the sum of the live processes' RSS: with the memory "
    "family, exact (the kernel keeps the sum at each change; memory.rss_sum_peak_bytes); without "
    "it, at least this much at once: the largest sum at any snapshot (sampled once an "
    "interval), or peak_rss_max_bytes if larger (a sum is never below one of its parts)",
}
DOC_RSS_SUM_PEAK = (
    "the largest the sum of the tree's live processes' resident memory has been, kept by the "
    "kernel at each change (a sum of RSS: pages shared by two processes count in each, as "
    "adding up RSS columns does)"
)
DOC_EXEC_ARGV = (
    "its arguments, read by the kernel from the caller at the exec's entry: at most 32, each "
    "beginning within the first 512 bytes and holding up to 512, so 512 to 1,024 bytes in all "
    "(argv_cut says when some were left out or cut)"
)
DOC_EXECS = (
    "the exec family: the tree's execs since the previous snapshot, in order (each one once; a "
    "diagnostics.exec_lost above 0 says some were lost, the ring buffer full). With the /proc "
    "collector (collector.families.exec sampled): the programs its tree scan saw running for "
    "the first time, dated at the process's start (a later program of the same process: when "
    "the scan saw it); execs between two readings and failed ones are not seen"
)
DOC_FILES = (
    "the files family: each path whose figures changed since the previous snapshot, with its "
    "figures since the start (a reader keeps the last row of each path); at most 10,000 paths "
    "are followed, diagnostics.files_paths_left_out counts the calls on others"
)
DOC_SIGNALS = (
    "the signals family: signals sent to or from the tree since the previous snapshot, and "
    "those its processes took delivery of, in order, each once"
)
DOC_PRIVILEGES = (
    "the privileges family: the tree's privileged calls since the previous snapshot (uid/gid "
    "changes, capset, ptrace, mount, umount2, unshare, setns, chroot, pivot_root, bpf, "
    "memfd_create, seccomp, prctl), in order, each once"
)
DOC_CAPABILITIES = (
    "the privileges family: each (process, program, capability) whose checks changed since the "
    "previous snapshot, with its counts since the process began (a reader keeps the last row of "
    "each pid, name and capability); at most 10,000 rows are followed, "
    "diagnostics.caps_left_out counts the checks of others"
)
DOC_SIGNAL_OUTCOME = (
    "sent: delivered, ignored, already pending, overflow or info lost (the kernel's result); "
    "delivered: the action the process had for it (default, ignored, handler); a fatal signal "
    "is taken as SIGKILL (the kernel queues SIGKILL to each thread of a process it ends): "
    "'default: fatal SIGUSR1' names the signal sent that ended it"
)
DOC_RUNQ_HIST = (
    "every wait of a thread of the tree for a CPU since the start, as a log2 histogram: bucket "
    "i counts waits of [2**i, 2**(i+1)) ns (the last bucket: that long or longer)"
)
DOC_ENDED_BY = (
    "why watching ended: finished (the root and every process of its tree ended), root_exited "
    "(--exit-with-root), time_limit (--duration), quit (q, ctrl+c, or a signal to denet-tui)"
)


DOC_CONN_DIRECTION = (
    "connect: a process of the tree connected (seen from its SYN_SENT); accept: the kernel "
    "accepted it for a listener (SYN_RECV), a process of the tree then used it; listen: a "
    "listening socket of the tree; unknown: how it began was not seen (eBPF: in use before we "
    "watched; the /proc collector's sampled list never knows). UDP (no handshake): connect: "
    "the tree sent the pair's first datagram; accept: it received it first"
)
DOC_CONNECTIONS = (
    "the network family: each TCP socket of the tree whose figures changed since the previous "
    "snapshot (at most 200, the busiest; diagnostics.connections_left_out counts the others), "
    "with its figures since it was seen (a reader keeps the last row of each pid, local and "
    "remote, start_ts)"
)
DOC_DISKS = (
    "the disk family: each (device, source, kind) whose figures changed since the previous "
    "snapshot, with its figures since the start (a reader keeps the last row of each)"
)
DOC_DISK_SOURCE = (
    "tree: started in the context of a process of the tree (its reads, its direct and "
    "synchronous writes); writeback: started by a kernel thread (flushing dirty pages later, "
    "whoever wrote them: the tree's or another process's), not attributable"
)
DOC_DISK_HIST = (
    "each ended request's latency (block_io_start to block_io_done) as a log2 histogram: "
    "bucket i counts [2**i, 2**(i+1)) ns (the last bucket: that long or longer)"
)
DOC_FILE_RELATIVE = (
    "null: `path` is absolute (as passed, or joined to the working directory: see joined); "
    "cwd unknown: passed relative to a working directory whose path is not known (no chdir "
    "named it and no process in it was alive at a reading), shown as passed; dirfd: passed "
    "relative to a directory file descriptor, shown as passed; cut: passed relative to the "
    "working directory and longer than the 255 bytes kept, shown as its last ones (not joined)"
)
DOC_FILE_LAST_BY = (
    "the process that made the latest call (pid and name as the sample that read it knew "
    "them; the /proc collector: the latest process found holding it); null where that "
    "process was no longer known (a call counted after its process was reported ended), "
    "and in recordings made before it was kept"
)
DOC_FILE_JOINED = (
    "the calls of this row passed the path relative to their working directory, and `path` "
    "joins it to that directory (named by the chdir that entered it, or read from "
    "/proc/PID/cwd of a live process in it; followed in the kernel across forks and chdir); "
    "the same file opened by its absolute name is another row"
)
DOC_FILE_OP = (
    "the kind of call: open (open, openat, openat2, creat), unlink, rmdir (rmdir, unlinkat with "
    "AT_REMOVEDIR), mkdir, rename_from / rename_to (a rename counts under its old and its new "
    "name), truncate (by path); with the /proc collector (collector.families.files sampled): "
    "held — the path was found open in /proc/PID/fd at a reading, calls counting the holdings "
    "seen (files opened and closed between two readings, and failed opens, are not seen)"
)


def _frozen_map(m: Mapping | None) -> Mapping:
    # A view made here is of a copy no one else holds: kept as it is (a sample is remade with
    # `replace` several times on its way out; copying its maps each time cost ~5 % of the
    # collector's time under churn).
    if type(m) is MappingProxyType:
        return m
    return MappingProxyType(dict(m)) if m else _EMPTY_MAP


_EMPTY_MAP: Mapping = MappingProxyType({})


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


# One syscall of one process: name, category, count, errors, time_ns, samples (SyscallStat's
# figures; a process's own table has no histogram: the tree's summary has them).
SyscallRow = tuple[str, str, int | None, int | None, int | None, int | None]


class SyscallTable(Mapping[str, SyscallStat]):
    """A process's per-syscall figures, immutable, kept as plain rows.

    Tables are built for every process that made a call in an interval (hundreds a second in a
    build) and read far less often, so a ``SyscallStat`` is made only when one is looked up;
    sums read ``rows`` directly.
    """

    __slots__ = ("rows", "_stats")

    def __init__(self, rows: Iterable[SyscallRow] = ()) -> None:
        self.rows: tuple[SyscallRow, ...] = tuple(rows)
        self._stats: dict[str, SyscallStat] | None = None

    @classmethod
    def of(cls, m: Mapping[str, SyscallStat]) -> SyscallTable:
        if isinstance(m, SyscallTable):
            return m
        if any(s.hist is not None for s in m.values()):
            raise ValueError("a process's syscall table has no latency histograms")
        return cls((n, s.category, s.count, s.errors, s.time_ns, s.samples) for n, s in m.items())

    def __getitem__(self, name: str) -> SyscallStat:
        if self._stats is None:
            self._stats = {r[0]: SyscallStat(*r[1:]) for r in self.rows}
        return self._stats[name]

    def __iter__(self) -> Iterator[str]:
        return (r[0] for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SyscallTable):
            return self.rows == other.rows
        return Mapping.__eq__(self, other)

    def __hash__(self) -> int:
        return hash(self.rows)

    def __repr__(self) -> str:
        return f"SyscallTable({self.rows!r})"

    # JSON (the codec's hooks): name -> [count, errors, time_ns, samples], a quarter the size
    # of SyscallStat's object; a name's category is the snapshot summary's (and category_of's).
    def json_value(self) -> dict[str, list[int | None]]:
        return {n: [k, e, t, s] for n, _c, k, e, t, s in self.rows}

    @classmethod
    def from_json_value(cls, data: Any, where: str) -> SyscallTable:
        """Schema 3's rows, or schema 1/2's SyscallStat objects."""
        from denet_tui.syscalls import category_of  # local: a table of names, no model types

        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object")
        rows: list[SyscallRow] = []
        for name, v in data.items():
            if isinstance(v, Mapping):
                v = [v.get("count"), v.get("errors"), v.get("time_ns"), v.get("samples")]
            if not isinstance(v, list) or len(v) != 4:
                raise ValueError(f"{where}: {name}: expected [count, errors, time_ns, samples]")
            if not all(x is None or (type(x) is int and x >= 0) for x in v):
                raise ValueError(f"{where}: {name}: figures must be null or integers >= 0")
            rows.append((str(name), category_of(str(name)), *v))
        return cls(rows)

    @staticmethod
    def json_schema() -> dict[str, Any]:
        figure = {"type": ["integer", "null"], "minimum": 0}
        return {
            "type": "object",
            "additionalProperties": {
                "type": "array",
                "prefixItems": [figure] * 4,
                "items": False,
                "minItems": 4,
                "description": "[count, errors, time_ns, samples]",
            },
        }


EMPTY_TABLE = SyscallTable()


@dataclass(frozen=True, slots=True)
class ProcessSyscalls(Codable):
    """The syscalls family's figures of one process."""

    count: int | None  # every syscall, exact (eBPF); None when only sampled
    by_name: SyscallTable | None = field(default=EMPTY_TABLE, metadata={"doc": DOC_BY_NAME})

    def __post_init__(self) -> None:
        if self.by_name is not None:
            object.__setattr__(self, "by_name", SyscallTable.of(self.by_name))


@dataclass(frozen=True, slots=True)
class ProcessSched(Codable):
    """The sched family's figures of one process: where its threads' wall time went (summed
    over its threads, so it can exceed the process's wall time), and its context switches.
    (The /proc collector estimates asleep and D by sampling: null for a process it never
    sampled, the reason in the process's null_reasons.)"""

    on_cpu_s: float
    waiting_cpu_s: float
    sleeping_s: float | None
    uninterruptible_s: float | None
    voluntary_switches: int
    involuntary_switches: int


@dataclass(frozen=True, slots=True)
class ProcessNet(Codable):
    """The network family's figures of one process: its sockets' traffic since it joined the
    tree, counted in the kernel at each call (see figures: net_*)."""

    rx_bytes: int
    tx_bytes: int
    rx_calls: int
    tx_calls: int
    unix_rx_bytes: int
    unix_tx_bytes: int
    tcp_rx_bytes: int
    tcp_tx_bytes: int
    udp_rx_bytes: int
    udp_tx_bytes: int
    other_rx_bytes: int
    other_tx_bytes: int


@dataclass(frozen=True, slots=True)
class Connection(Codable):
    """One TCP socket of the tree, or one UDP endpoint pair (a socket of one process and one
    remote endpoint), with its figures since it was seen (the network family)."""

    pid: int = field(metadata={"doc": "the process of the tree that used it last"})
    family: Literal["ipv4", "ipv6"] | None = field(
        metadata={"doc": "null: its addresses were never seen (in use before we watched)"}
    )
    direction: Literal["connect", "accept", "listen", "unknown"] = field(
        metadata={"doc": DOC_CONN_DIRECTION}
    )
    state: str = field(
        metadata={
            "doc": "TCP: its state now: ESTABLISHED, LISTEN, CLOSE, …; UDP: connected (the "
            "socket has a peer of its own) or unconnected"
        }
    )
    local: str | None = field(metadata={"doc": "address:port ([v6]:port); null: not seen"})
    remote: str | None = field(
        metadata={"doc": "null: a listener, or a UDP datagram whose source was not seen"}
    )
    rx_bytes: int | None = field(metadata={"doc": "null: the /proc collector (no such count)"})
    tx_bytes: int | None
    start_ts: float = field(
        metadata={"doc": "TCP: its first state change seen, or its first use; UDP: first datagram"}
    )
    end_ts: float | None = field(
        metadata={"doc": "TCP: when it closed, null: open; UDP: its latest datagram"}
    )
    protocol: Literal["tcp", "udp"] = "tcp"


@dataclass(frozen=True, slots=True)
class ProcessDisk(Codable):
    """The disk family's figures of one process: the block I/O requests the kernel started in
    its own context since it joined the tree (see figures: blk_*)."""

    read_ops: int
    read_bytes: int
    write_ops: int
    write_bytes: int


@dataclass(frozen=True, slots=True)
class DiskDevice(Codable):
    """One block device's requests of one kind (the disk family), cumulative since the start:
    the tree's own, or the kernel's writeback (not attributable to a process)."""

    device: str = field(metadata={"doc": "its name (vda, nvme0n1, …), or MAJ:MIN"})
    source: Literal["tree", "writeback"] = field(metadata={"doc": DOC_DISK_SOURCE})
    kind: Literal["read", "write", "other"] = field(
        metadata={"doc": "read, write, or other (discard, a flush alone)"}
    )
    ops: int = field(metadata={"doc": "requests started"})
    bytes: int
    done: int = field(metadata={"doc": "requests ended: the histogram's count"})
    latency_ns: int = field(metadata={"doc": "their summed latency, start to end"})
    hist: tuple[int, ...] = field(metadata={"doc": DOC_DISK_HIST})
    merged: int = field(
        default=0,
        metadata={
            "doc": "requests merged into another in the queue before they were sent: they end "
            "with it (ops = done + merged + those in flight)"
        },
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "hist", tuple(self.hist))


@dataclass(frozen=True, slots=True)
class TreeSched(Codable):
    """The sched family's tree-wide figures."""

    runq_hist: tuple[int, ...] = field(metadata={"doc": DOC_RUNQ_HIST})


@dataclass(frozen=True, slots=True)
class TreeMemory(Codable):
    """The memory family's tree-wide figures: kept by the kernel at each change of a process's
    resident memory, so exact, not sampled."""

    rss_sum_bytes: int = field(
        metadata={"doc": "the sum of the tree's live processes' resident memory now"}
    )
    rss_sum_peak_bytes: int = field(metadata={"doc": DOC_RSS_SUM_PEAK})


@dataclass(frozen=True, slots=True)
class ExecEvent(Codable):
    """One exec of the tree (the exec family), successful or not, as the kernel saw it."""

    ts: float = field(metadata={"doc": "unix time it succeeded or failed"})
    pid: int
    ppid: int | None
    name: str = field(metadata={"doc": "the process's name after it (failed: still its own)"})
    path: str = field(
        metadata={"doc": "the program: the kernel's path if it succeeded, else as it was passed"}
    )
    argv: tuple[str, ...] = field(metadata={"doc": DOC_EXEC_ARGV})
    error: str | None = field(
        default=None, metadata={"doc": "null: it succeeded; else the errno's name (ENOENT, …)"}
    )
    argv_cut: bool = field(default=False, metadata={"doc": "argv holds less than was passed"})
    path_cut: bool = field(default=False, metadata={"doc": "path holds less than was passed"})

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(self.argv))


@dataclass(frozen=True, slots=True)
class SignalEvent(Codable):
    """One signal (the signals family): sent by or to the tree, or taken by one of its
    processes."""

    ts: float
    kind: Literal["sent", "delivered"]
    signal: str = field(metadata={"doc": "its name: SIGTERM, SIGUSR1, …"})
    sender_pid: int | None = field(metadata={"doc": "the sender's pid (null: delivered)"})
    sender_name: str | None
    sender_in_tree: bool | None = field(metadata={"doc": "null: delivered (no sender known)"})
    target_pid: int
    target_name: str
    target_in_tree: bool
    outcome: str = field(metadata={"doc": DOC_SIGNAL_OUTCOME})
    to_process: bool | None = field(
        default=None, metadata={"doc": "sent: to the whole process, or to one thread (false)"}
    )


@dataclass(frozen=True, slots=True)
class PrivilegeEvent(Codable):
    """One privileged call of the tree (the privileges family), as the kernel saw it return."""

    ts: float
    pid: int
    name: str
    call: str = field(metadata={"doc": "the system call: setresuid, mount, unshare, prctl, …"})
    detail: str = field(metadata={"doc": "its arguments, decoded (flag and request names)"})
    path: str | None = field(
        metadata={"doc": "its path or name argument (mount's target, chroot's, memfd's name)"}
    )
    result: int = field(
        metadata={"doc": "what the call returned (a negative errno on failure)", "signed": True}
    )
    error: str | None = field(metadata={"doc": "null: it succeeded; else the errno's name"})
    uid: int = field(metadata={"doc": "the thread's real uid after the call"})
    gid: int = field(metadata={"doc": "the thread's real gid after the call"})


DOC_EVENT_TS = (
    "Unix time of the first or last call or check; with the syscalls family timing calls "
    "(the default), that of the entry of the system call it was made in (a check made "
    "outside one: its own)"
)


@dataclass(frozen=True, slots=True)
class CapabilityStat(Codable):
    """One capability a program of the tree was checked for (the privileges family), counted
    in the kernel: one row per process, program (a process may exec several) and capability."""

    pid: int
    name: str = field(
        metadata={
            "doc": "the program checked: the process's name then (the checks an exec makes "
            "while it loads a program: that program's, with the syscalls family timing calls)"
        }
    )
    capability: str = field(metadata={"doc": "CAP_SYS_ADMIN, CAP_NET_BIND_SERVICE, …"})
    granted: int
    denied: int
    first_ts: float = field(metadata={"doc": DOC_EVENT_TS})
    last_ts: float = field(metadata={"doc": DOC_EVENT_TS})


@dataclass(frozen=True, slots=True)
class FileStat(Codable):
    """One path the tree opened, removed, created, renamed or truncated (the files family), for
    one kind of call, summed over its processes: every call counted in the kernel."""

    RENAMED: ClassVar[dict[str, str]] = {"opens": "calls"}  # keys of recordings before `op`
    path: str = field(
        metadata={
            "doc": "as the program passed it; a relative one joined to the working directory "
            "it was opened in when that is known (see joined, relative)"
        }
    )
    calls: int
    failures: int
    error: str | None = field(metadata={"doc": "the errno name of its last failed call"})
    processes: int = field(
        metadata={
            "doc": "how many processes of the tree made such calls, each once (a joined "
            "relative path: once per working directory it was opened in, so a process that "
            "left the directory and came back counts again)"
        }
    )
    modes: str = field(
        metadata={"doc": "what opens asked for: r, w, c (create), or-ed; truncate: w"}
    )
    first_ts: float = field(metadata={"doc": DOC_EVENT_TS})
    last_ts: float = field(metadata={"doc": DOC_EVENT_TS})
    path_cut: bool = field(
        default=False,
        metadata={
            "doc": "longer than the 255 bytes kept: path is “…” and its last 255 bytes (the "
            "file name stays; its directory is not known, so a relative one is not joined)"
        },
    )
    op: str = field(default="open", metadata={"doc": DOC_FILE_OP})
    relative: str | None = field(default=None, metadata={"doc": DOC_FILE_RELATIVE})
    joined: bool = field(default=False, metadata={"doc": DOC_FILE_JOINED})
    last_pid: int | None = field(default=None, metadata={"doc": DOC_FILE_LAST_BY})
    last_name: str | None = field(default=None, metadata={"doc": DOC_FILE_LAST_BY})


@dataclass(frozen=True, slots=True)
class ProcessSample(Codable):
    pid: int = field(metadata={"minimum": 1})
    ppid: int | None
    name: str
    cmdline: tuple[str, ...]
    alive: bool
    # What each figure is: denet_tui.figures (disk vs logical I/O, state letters, …).
    cpu_percent: float | None = None
    cpu_time_s: float | None = None
    cpu_user_s: float | None = None
    cpu_system_s: float | None = None
    runq_wait_s: float | None = None
    rss_bytes: int | None = None
    peak_rss_bytes: int | None = None
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
    read_syscalls: int | None = None
    write_syscalls: int | None = None
    start_ts: float | None = field(default=None, metadata={"doc": DOC_START})
    end_ts: float | None = field(default=None, metadata={"doc": DOC_END})
    exit_code: int | None = field(default=None, metadata={"doc": DOC_EXIT})
    killed_by_signal: int | None = field(
        default=None, metadata={"doc": DOC_KILLED_BY, "minimum": 1}
    )
    # Probe families' sections: None when the family is off (the reason in null_reasons).
    syscalls: ProcessSyscalls | None = None
    sched: ProcessSched | None = None
    net: ProcessNet | None = None
    disk: ProcessDisk | None = None
    null_reasons: Mapping[str, str] = field(
        default_factory=dict, metadata={"doc": DOC_NULL_REASONS}
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "cmdline", tuple(self.cmdline))
        object.__setattr__(self, "null_reasons", _frozen_map(self.null_reasons))

    def null_reason(self, key: str) -> str | None:
        """Why figure ``key`` is None: its own reason, or its family's (see DOC_NULL_REASONS)."""
        reasons = self.null_reasons
        if key in reasons:
            return reasons[key]
        figure = BY_KEY.get(key)
        return reasons.get(figure.family) if figure is not None else None

    @property
    def syscalls_by_name(self) -> SyscallTable:
        part = self.syscalls
        if part is None or part.by_name is None:
            return EMPTY_TABLE
        return part.by_name  # type: ignore[return-value]  # a SyscallTable since __post_init__


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


def _tree_totals() -> type:
    """``TreeTotals``: the process counts, and one field per counter figure (``figures``)."""
    fields: list[tuple[str, Any, Any]] = [
        ("processes_seen", int, field(default=0, metadata={"doc": "processes ever seen"})),
        ("processes_live", int, field(default=0, metadata={"doc": "processes alive now"})),
        ("processes_ended", int, field(default=0, metadata={"doc": "processes that ended"})),
    ]
    for f in COUNTERS:
        tp = (float if f.unit == "seconds" else int) | None
        fields.append((f.key, tp, field(default=None, metadata={"doc": f.doc})))
    for key, doc in PEAKS.items():
        fields.append((key, int | None, field(default=None, metadata={"doc": doc})))
    fields.append(
        ("unknown", Mapping[str, int], field(default_factory=dict, metadata={"doc": DOC_UNKNOWN}))
    )
    return make_dataclass(
        "TreeTotals",
        fields,
        bases=(Codable,),
        frozen=True,
        slots=True,
        namespace={"__doc__": DOC_TOTALS, "__module__": __name__},
    )


TreeTotals: Any = _tree_totals()


@dataclass(frozen=True, slots=True)
class Snapshot(Codable):
    KIND: ClassVar[str] = "snapshot"
    t: float  # seconds since monitoring started
    ts: float  # unix time
    target: TargetStatus
    processes: tuple[ProcessSample, ...] = field(metadata={"doc": DOC_PROCESSES})
    syscalls: SyscallSummary = field(default=None)  # type: ignore[assignment]
    # Collector health: lost/dropped updates, effective sample rate, … (always measured).
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    totals: TreeTotals = field(default_factory=TreeTotals, metadata={"doc": DOC_TOTALS})
    sched: TreeSched | None = None  # the sched family's tree figures (None: family off)
    memory: TreeMemory | None = None  # the memory family's (None: family off)
    execs: tuple[ExecEvent, ...] = field(default=(), metadata={"doc": DOC_EXECS})
    files: tuple[FileStat, ...] = field(default=(), metadata={"doc": DOC_FILES})
    signals: tuple[SignalEvent, ...] = field(default=(), metadata={"doc": DOC_SIGNALS})
    privileges: tuple[PrivilegeEvent, ...] = field(default=(), metadata={"doc": DOC_PRIVILEGES})
    capabilities: tuple[CapabilityStat, ...] = field(default=(), metadata={"doc": DOC_CAPABILITIES})
    disks: tuple[DiskDevice, ...] = field(default=(), metadata={"doc": DOC_DISKS})
    connections: tuple[Connection, ...] = field(default=(), metadata={"doc": DOC_CONNECTIONS})

    def __post_init__(self) -> None:
        object.__setattr__(self, "processes", tuple(self.processes))
        object.__setattr__(self, "execs", tuple(self.execs))
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "signals", tuple(self.signals))
        object.__setattr__(self, "privileges", tuple(self.privileges))
        object.__setattr__(self, "capabilities", tuple(self.capabilities))
        object.__setattr__(self, "disks", tuple(self.disks))
        object.__setattr__(self, "connections", tuple(self.connections))
        object.__setattr__(self, "diagnostics", _frozen_map(self.diagnostics))
        if self.syscalls is None:
            object.__setattr__(self, "syscalls", EMPTY_SYSCALLS)

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
class CommandStats(Codable):
    """The ended processes of one command (``finished.command_key``), aggregated."""

    command: str
    count: int
    cpu_s_total: float | None  # over the processes whose CPU time is known
    cpu_s_max: float | None
    peak_rss_max: int | None
    wall_s_total: float | None
    wall_s_max: float | None
    # Exit status (as text: "0", "2", "143 SIGTERM" when killed by it) -> processes; "unknown"
    # for those whose status was not seen.
    exit_codes: Mapping[str, int] = field(
        default_factory=dict,
        metadata={
            "doc": "exit status -> processes: the code as text, with the signal's name when "
            "one killed it (143 SIGTERM; an exit(143) is 143); unknown: not seen"
        },
    )
    # Where their threads' time went, summed (the sched family; null in recordings before it).
    waiting_cpu_s_total: float | None = None
    sleeping_s_total: float | None = None
    uninterruptible_s_total: float | None = None
    # Figures not known exactly for every one of these processes: their totals are lower
    # bounds (cpu_s without the eBPF sched family: an exit record misses the last time slice).
    incomplete: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "exit_codes", _frozen_map(self.exit_codes))
        object.__setattr__(self, "incomplete", tuple(self.incomplete))

    @property
    def failures(self) -> int:
        return sum(n for code, n in self.exit_codes.items() if code not in ("0", "unknown"))


@dataclass(frozen=True, slots=True)
class FinishedSummary(Codable):
    """Every process that ended during the run, by command (bounded: see ``other``)."""

    processes: int  # ended processes, all of them
    commands: tuple[CommandStats, ...]  # by total CPU time, largest first
    # Ended processes whose command came after the limit of distinct commands: counted here.
    other: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "commands", tuple(self.commands))


EMPTY_FINISHED = FinishedSummary(processes=0, commands=())


DOC_COMMAND_WALL = (
    "The root process's elapsed time from its start to its end, in seconds: in run mode the "
    "command's, as /usr/bin/time's elapsed (wall clock) time and the Summary tab give it "
    "(duration_s is how long it was watched); null while it runs, or where its start or end "
    "is unknown"
)


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
    totals: TreeTotals = field(default_factory=TreeTotals)
    syscalls: SyscallSummary = field(default=EMPTY_SYSCALLS)
    finished: FinishedSummary = field(default=EMPTY_FINISHED)
    sched: TreeSched | None = None
    memory: TreeMemory | None = None
    command_wall_s: float | None = field(default=None, metadata={"doc": DOC_COMMAND_WALL})


def latest_root(snap: Snapshot, before: ProcessSample | None) -> ProcessSample | None:
    """The root process as last listed: in ``snap``, else ``before`` (a snapshot lists an
    ended process once; the root may end snapshots before the last)."""
    return snap.process(snap.target.pid) or before


def end_record(
    last: Snapshot,
    ended_by: EndedBy,
    finished: FinishedSummary = EMPTY_FINISHED,
    command_wall_s: float | None = None,
) -> dict[str, Any]:
    """The closing JSON line of a stream or recording."""
    return End(
        command_wall_s=command_wall_s,
        ended_by=ended_by,
        exit_code=last.target.exit_code,
        status=last.target.status,
        signal=last.target.signal,
        duration_s=last.t,
        processes_seen=last.totals.processes_seen,
        totals=last.totals,
        syscalls=last.syscalls,
        finished=finished,
        sched=last.sched,
        memory=last.memory,
    ).to_dict()


def export_record(
    meta: Meta, snap: Snapshot, finished: FinishedSummary = EMPTY_FINISHED
) -> dict[str, Any]:
    """One snapshot object with the meta fields under ``meta`` and the ended processes by
    command under ``finished`` (``--export`` and the export key)."""
    d = snap.to_dict()
    d["meta"] = meta.to_dict()
    d["finished"] = finished.to_dict()
    return d
