"""Exit records: the kernel's own final figures of every process, however short-lived.

The taskstats generic-netlink family sends a record for every task that exits, to a listener
that registered the CPUs it wants (this needs CAP_NET_ADMIN): user and system CPU time, the
peak RSS (``hiwater_rss``), I/O in bytes and calls, page faults, context switches and the exit
status. A record is the task's (thread's) own: a parent's record never includes the children it
reaped, unlike its ``/proc/PID/io``. A process's figures are the sum over its threads' records
(the peak, their maximum).

Records arrive for every task on the machine; the collector drains the socket each sample and
takes those of its processes (``take``); the rest are dropped after a while. A full socket
buffer loses records: counted in ``lost``, never silent.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
import time
from collections.abc import Container
from dataclasses import dataclass
from typing import Any, Literal

from denet_tui.rawtext import c_string

NETLINK_GENERIC = 16
SO_RCVBUFFORCE = 33  # linux/asm-generic/socket.h (not in Python's socket module)
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
TASKSTATS_CMD_GET = 1
TASKSTATS_CMD_ATTR_REGISTER_CPUMASK = 3
TASKSTATS_TYPE_PID = 1
TASKSTATS_TYPE_STATS = 3
TASKSTATS_TYPE_AGGR_PID = 4
# One message a read: a record is about 600 bytes (two for a thread group's last thread);
# a bigger buffer would only be allocated and shrunk again for each.
MESSAGE_MAX = 16 * 1024
RCVBUF = 8 * 1024 * 1024  # about 13,000 records between two samples
KEEP_S = 10.0  # an unclaimed record (not one of ours, or not yet known) is dropped after this
MAX_PENDING = 100_000

# struct taskstats (linux/taskstats.h; its layout only ever grows at the end): the fields read,
# by offset, for records of version 13 (ac_tgid) and later.
MIN_VERSION = 13
FIELDS = {
    "version": (0, "H"),
    "exit_status": (4, "I"),
    "cpu_count": (16, "Q"),
    "cpu_delay_total": (24, "Q"),
    "cpu_run_virtual_total": (72, "Q"),
    "ac_pid": (128, "I"),
    "ac_ppid": (132, "I"),
    "ac_utime": (152, "Q"),  # µs
    "ac_stime": (160, "Q"),
    "minflt": (168, "Q"),
    "majflt": (176, "Q"),
    "hiwater_rss_kb": (200, "Q"),
    "read_char": (216, "Q"),
    "write_char": (224, "Q"),
    "read_syscalls": (232, "Q"),
    "write_syscalls": (240, "Q"),
    "read_bytes": (248, "Q"),
    "write_bytes": (256, "Q"),
    "nvcsw": (272, "Q"),
    "nivcsw": (280, "Q"),
    "btime64": (344, "Q"),
    "ac_tgid": (368, "I"),
}


def _record_struct() -> struct.Struct:
    """One unpack for every field of FIELDS (in their order, which is by offset)."""
    fmt, at = "<", 0
    for offset, code in FIELDS.values():
        assert offset >= at, "FIELDS must be in offset order"
        fmt += f"{offset - at}x{code}" if offset > at else code
        at = offset + struct.calcsize("<" + code)
    return struct.Struct(fmt)


RECORD = _record_struct()
COMM_OFFSET, COMM_LEN = 80, 32  # ac_comm
RECORD_SIZE = 376  # up to and including ac_tgid (and its padding)


# Summed over a process's threads (the peak RSS is their maximum).
SUMMED = (
    "cpu_run_virtual_total",
    "ac_utime",
    "ac_stime",
    "cpu_delay_total",
    "read_bytes",
    "write_bytes",
    "read_char",
    "write_char",
    "read_syscalls",
    "write_syscalls",
    "minflt",
    "majflt",
    "nvcsw",
    "nivcsw",
)


class _Acc:
    """The records of one process so far."""

    __slots__ = (
        "sums",
        "peak",
        "at",
        "records",
        "start_s",
        "exit_code",
        "killed_by_signal",
        "ppid",
        "comm",
    )

    def __init__(self) -> None:
        self.sums = [0] * len(SUMMED)
        self.peak = 0
        self.at = 0.0  # monotonic time of the last record
        self.records = 0
        self.start_s: int | None = None  # from the leader's record
        self.exit_code: int | None = None
        self.killed_by_signal: int | None = None
        self.ppid = 0
        self.comm = ""

    def add(self, values: list[int], peak: int, now: float) -> None:
        for k, v in enumerate(values):
            self.sums[k] += v
        self.peak = max(self.peak, peak)
        self.at = now
        self.records += 1


class TaskstatsUnavailable(Exception):
    """Exit records cannot be had here; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class ExitRecord:
    """A process's final figures, summed over the records of its threads."""

    tgid: int
    ppid: int
    comm: str
    start_s: int  # unix time it started, whole seconds (the kernel's ac_btime)
    exit_code: int | None  # the leader's: its exit code, or 128 + the signal that killed it
    killed_by_signal: int | None  # the leader's: the signal that killed it (None: it exited)
    # On CPU until the record was written (the scheduler's exact sum), which is before the
    # kernel frees the process's memory: that last step is not in it.
    cpu_time_s: float
    cpu_user_s: float  # the exact total in the ticks' ratio (kernel_split), all threads
    cpu_system_s: float
    runq_wait_s: float  # time runnable, waiting for a CPU
    peak_rss_bytes: int
    read_bytes: int
    write_bytes: int
    read_chars: int
    write_chars: int
    read_syscalls: int
    write_syscalls: int
    minor_faults: int
    major_faults: int
    ctx_voluntary: int
    ctx_involuntary: int
    threads: int  # records summed


def kernel_split(
    total_s: float,
    ticks_user_s: float,
    ticks_system_s: float,
    before: tuple[float, float] = (0.0, 0.0),
) -> tuple[float, float]:
    """The exact CPU time ``total_s`` split into user and system in the tick-sampled ratio, by the
    kernel's own rule (cputime_adjust) that getrusage, wait4, time -v and /proc/PID/stat apply:
    no system ticks, all user; no user ticks, all system. The exit record holds the raw ticks.
    ``before``: the split the kernel last reported of the process (user, system: its
    ``prev_cputime``), below which neither part goes: a process that read its own times (`as`
    does, just before its exit) keeps the ratio of then for what it ran before."""
    user_before, system_before = before
    if user_before + system_before >= total_s:
        return user_before, system_before
    if ticks_system_s == 0:
        system = 0.0
    elif ticks_user_s == 0:
        system = total_s
    else:
        system = total_s * ticks_system_s / (ticks_user_s + ticks_system_s)
    system = max(system, system_before)
    if total_s - system < user_before:
        return user_before, total_s - user_before
    return total_s - system, system


def exit_code_of(status: int) -> int:
    """A wait status as the shell tells it: the exit code, or 128 + the signal."""
    return 128 + (status & 0x7F) if status & 0x7F else (status >> 8) & 0xFF


def _attr(kind: int, payload: bytes) -> bytes:
    length = 4 + len(payload)
    return struct.pack("HH", length, kind) + payload + b"\0" * (-length % 4)


def _message(family: int, cmd: int, attrs: bytes, seq: int, *, ack: bool = False) -> bytes:
    body = struct.pack("BBH", cmd, 1, 0) + attrs
    flags = NLM_F_REQUEST | (NLM_F_ACK if ack else 0)
    return struct.pack("IHHII", 16 + len(body), family, flags, seq, 0) + body


def _attrs(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, int]]:
    """(type, payload start, payload end) of the netlink attributes in ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    i = start
    while i + 4 <= end:
        length, kind = struct.unpack_from("HH", data, i)
        if length < 4:
            break
        out.append((kind & 0x3FFF, i + 4, i + length))
        i += (length + 3) & ~3
    return out


def _possible_cpus() -> bytes:
    """The CPU list the kernel accepts as a mask ("0-1"): every possible CPU."""
    with open("/sys/devices/system/cpu/possible", "rb") as f:
        return f.read().strip()


def _answer(sock: socket.socket, seq: int) -> bytes | None:
    """The kernel's answer to request ``seq``: its reply message (None for a bare ack), or
    OSError for an error. Anything else read meanwhile (exit records) is dropped."""
    while True:
        data = sock.recv(MESSAGE_MAX)
        i = 0
        while i + 16 <= len(data):
            length, kind, _flags, got = struct.unpack_from("IHHI", data, i)
            if length < 16:
                break
            if got == seq:
                if kind != NLMSG_ERROR:
                    return data[i : i + length]
                err = -struct.unpack_from("i", data, i + 16)[0]
                if err:
                    raise OSError(err, os.strerror(err))
                return None
            i += (length + 3) & ~3


class ExitRecords:
    """A taskstats listener for every CPU. ``ExitRecords()`` raises TaskstatsUnavailable with
    the reason when the kernel will not send records to us."""

    def __init__(self) -> None:
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        except OSError as e:
            raise TaskstatsUnavailable(f"no generic netlink socket: {e.strerror}") from None
        try:
            try:  # root may go beyond net.core.rmem_max
                sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
            sock.bind((0, 0))
            sock.settimeout(2.0)
            sock.send(
                _message(
                    GENL_ID_CTRL,
                    CTRL_CMD_GETFAMILY,
                    _attr(CTRL_ATTR_FAMILY_NAME, b"TASKSTATS\0"),
                    1,
                )
            )
            reply = _answer(sock, 1) or b""
            family = next(
                (
                    struct.unpack_from("H", reply, s)[0]
                    for kind, s, _e in _attrs(reply, 20)
                    if kind == CTRL_ATTR_FAMILY_ID
                ),
                None,
            )
            if family is None:
                raise TaskstatsUnavailable("the kernel has no taskstats (CONFIG_TASKSTATS)")
            sock.send(
                _message(
                    family,
                    TASKSTATS_CMD_GET,
                    _attr(TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, _possible_cpus() + b"\0"),
                    2,
                    ack=True,  # registering answers nothing else
                )
            )
            _answer(sock, 2)
            sock.setblocking(False)
        except TaskstatsUnavailable:
            sock.close()
            raise
        except OSError as e:
            sock.close()
            why = "needs CAP_NET_ADMIN" if e.errno == errno.EPERM else (e.strerror or str(e))
            raise TaskstatsUnavailable(f"taskstats exit records: {why}") from None
        self._sock: socket.socket | None = sock
        self._pending: dict[int, _Acc] = {}  # by tgid
        self._pruned = 0.0
        self.lost = 0  # records the kernel could not queue for us (a full buffer)
        self.received = 0

    def drain(self, ours: Container[int]) -> None:
        """Read every record queued since the last call (never blocks). Records of processes
        not in ``ours`` (tgids) are dropped once they are a while old: not of the watched tree,
        or of a process that ended before the collector knew it (it learns within a sample)."""
        sock = self._sock
        if sock is None:
            return
        now = time.monotonic()
        while True:
            try:
                data = sock.recv(MESSAGE_MAX)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == errno.ENOBUFS:  # the kernel dropped records: say how often
                    self.lost += 1
                    continue
                raise
            self._parse(data, now)
        if len(self._pending) > MAX_PENDING or now - self._pruned > KEEP_S:
            self._pruned = now
            old = [t for t, acc in self._pending.items() if now - acc.at > KEEP_S]
            for tgid in [t for t in old if t not in ours]:
                del self._pending[tgid]

    def _parse(self, data: bytes, now: float) -> None:
        i = 0
        while i + 16 <= len(data):
            length = struct.unpack_from("I", data, i)[0]
            if length < 16:
                break
            # nlmsghdr (16) + genlmsghdr (4), then AGGR_PID { PID, STATS } (threads' records;
            # AGGR_TGID records repeat what the threads' sum gives).
            for kind, s, e in _attrs(data, i + 20, i + length):
                if kind != TASKSTATS_TYPE_AGGR_PID:
                    continue
                for inner, s2, e2 in _attrs(data, s, e):
                    if inner == TASKSTATS_TYPE_STATS and e2 - s2 >= RECORD_SIZE:
                        self._add(data, s2, now)
            i += (length + 3) & ~3

    def _add(self, data: bytes, at: int, now: float) -> None:
        got = dict(zip(FIELDS, RECORD.unpack_from(data, at), strict=True))
        if got["version"] < MIN_VERSION:
            return
        self.received += 1
        tgid = got["ac_tgid"]
        leader = got["ac_pid"] == tgid
        acc = self._pending.get(tgid)
        if acc is None or (leader and acc.start_s is not None):
            acc = self._pending[tgid] = _Acc()  # new, or the pid now names another process
        acc.add([got[name] for name in SUMMED], got["hiwater_rss_kb"] * 1024, now)
        if leader:  # its start is the process's; its exit status, the process's
            acc.start_s = got["btime64"]
            acc.exit_code = exit_code_of(got["exit_status"])
            acc.killed_by_signal = got["exit_status"] & 0x7F or None
            acc.ppid = got["ac_ppid"]
            acc.comm = c_string(data[at + COMM_OFFSET : at + COMM_OFFSET + COMM_LEN])

    def children_of(self, tree: set[int]) -> list[ExitRecord]:
        """Take the records of processes no one asked for whose parent is in ``tree`` (pids),
        or is one of them: those born and gone between two readings of /proc."""
        out: list[ExitRecord] = []
        found = True
        while found:
            found = False
            for tgid, acc in list(self._pending.items()):
                if acc.start_s is not None and acc.ppid in tree and tgid not in tree:
                    rec = self.take(tgid, None)
                    if rec is not None:
                        out.append(rec)
                        tree.add(tgid)
                        found = True
        return out

    def take(self, tgid: int, start_ts: float | None) -> ExitRecord | None:
        """The exit record of process ``tgid`` that started at ``start_ts`` (unix time; None:
        any), once; None if none came (yet, or at all)."""
        acc = self._pending.get(tgid)
        if acc is None or acc.start_s is None:
            return None  # no record of its leader (yet)
        if start_ts is not None and abs(acc.start_s - start_ts) > 1.5:
            return None  # another process that had this pid
        del self._pending[tgid]
        v = dict(zip(SUMMED, acc.sums, strict=True))
        user_s, system_s = kernel_split(
            v["cpu_run_virtual_total"] / 1e9, v["ac_utime"] / 1e6, v["ac_stime"] / 1e6
        )
        return ExitRecord(
            tgid=tgid,
            ppid=acc.ppid,
            comm=acc.comm,
            start_s=acc.start_s,
            exit_code=acc.exit_code,
            killed_by_signal=acc.killed_by_signal,
            cpu_time_s=v["cpu_run_virtual_total"] / 1e9,
            cpu_user_s=user_s,
            cpu_system_s=system_s,
            runq_wait_s=v["cpu_delay_total"] / 1e9,
            peak_rss_bytes=acc.peak,
            read_bytes=v["read_bytes"],
            write_bytes=v["write_bytes"],
            read_chars=v["read_char"],
            write_chars=v["write_char"],
            read_syscalls=v["read_syscalls"],
            write_syscalls=v["write_syscalls"],
            minor_faults=v["minflt"],
            major_faults=v["majflt"],
            ctx_voluntary=v["nvcsw"],
            ctx_involuntary=v["nivcsw"],
            threads=acc.records,
        )

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def open_exit_records() -> tuple[ExitRecords | None, str | None]:
    """A listener, or None and the reason there is none (for the screen and diagnostics)."""
    try:
        return ExitRecords(), None
    except TaskstatsUnavailable as e:
        return None, str(e)


def exit_family(exits: ExitRecords | None) -> dict[str, Literal["exact"]]:
    """The capability, as CollectorInfo.families lists it: every process's final figures."""
    return {"exits": "exact"} if exits is not None else {}


def exit_diagnostics(exits: ExitRecords | None, why_not: str | None) -> dict[str, Any]:
    if exits is None:
        return {"exit_records": why_not}
    return {"exit_records": exits.received, "exit_records_lost": exits.lost}
