"""Per-process figures from /proc, shared by every live collector.

Processes vanish between any two reads: that is normal and yields None, not an error.
Permission errors leave the affected fields None with the reason in ``null_reasons``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Container, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from denet_tui.evolve import evolve
from denet_tui.model import ProcessSample
from denet_tui.rawtext import decoded

CLK_TCK = os.sysconf("SC_CLK_TCK")
NEVER_READ = "process ended before /proc could be read"
STATUS_FIGURES = ("ctx_voluntary", "ctx_involuntary", "peak_rss_bytes")
NOT_READ = (
    "/proc/PID/status not read: the sched and memory families give these for a process "
    "followed from its fork (the peak once its memory has changed)"
)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class StatLine(NamedTuple):
    """The fields of /proc/PID/stat we use."""

    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    minflt: int
    majflt: int
    utime: int  # clock ticks, whole thread group
    stime: int
    threads: int
    starttime: int  # clock ticks after boot: with pid, identifies a process across pid reuse
    rss_pages: int


def parse_stat(data: bytes) -> StatLine:
    # comm may contain spaces and ')' — split around the *last* ')'.
    lp, rp = data.index(b"("), data.rindex(b")")
    rest = data[rp + 2 :].split()
    return StatLine(
        int(data[:lp]),
        decoded(data[lp + 1 : rp]),
        rest[0].decode(),
        int(rest[1]),
        int(rest[2]),
        int(rest[7]),
        int(rest[9]),
        int(rest[11]),
        int(rest[12]),
        int(rest[17]),
        int(rest[19]),
        int(rest[21]),
    )


def read_bytes(path: str) -> bytes:
    # os.open/os.read: a third of the cost of open() for these small files, read per process.
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, CHUNK)
        if len(data) < SMALL:
            return data
        parts = [data]  # maybe more (a long command line): read to the end
        while chunk := os.read(fd, CHUNK):
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


CHUNK = 128 * 1024
SMALL = 4096  # a /proc file shorter than a page comes whole in one read


def read_stat(pid: int) -> StatLine | None:
    try:
        return parse_stat(read_bytes(f"/proc/{pid}/stat"))
    except (OSError, ValueError, IndexError):
        return None


_IO_KEYS = {
    b"rchar:": "read_chars",
    b"wchar:": "write_chars",
    b"read_bytes:": "read_bytes",
    b"write_bytes:": "write_bytes",
    b"syscr:": "read_syscalls",
    b"syscw:": "write_syscalls",
}


def _parse_io(data: bytes) -> dict[str, int]:
    words = data.split()  # "key: value" lines
    return {
        _IO_KEYS[k]: int(v) for k, v in zip(words[::2], words[1::2], strict=False) if k in _IO_KEYS
    }


# Per thread: figures summed into the process's (read_process), beside _IO_KEYS' and the
# switches: time on a CPU and waiting for one (/proc/PID/task/TID/schedstat), in ns.
ON_CPU_NS, RUNQ_NS = "on_cpu_ns", "runq_ns"
Figures = dict[str, int]


def _thread_io(pid: int, tids: list[str] | None) -> dict[str, Figures]:
    """Each live thread's I/O (/proc/PID/task/TID/io): /proc/PID/io adds what the process
    gained by reaping its children, which their own figures count already."""
    out: dict[str, Figures] = {}
    for tid in tids or [str(pid)]:
        try:
            data = read_bytes(f"/proc/{pid}/task/{tid}/io")
        except FileNotFoundError:
            if tid == str(pid):
                raise
            continue  # a thread that ended between listdir and open
        out[tid] = _parse_io(data)
    return out


def status_field(data: bytes, key: bytes) -> int | None:
    """The number after ``key`` (b"\\nName:") in a /proc status file; None if absent."""
    i = data.find(key)
    if i < 0:
        return None
    i += len(key)
    return int(data[i : data.find(b"\n", i)].split()[0])


def _thread_status(pid: int, tids: list[str] | None) -> tuple[dict[str, Figures], int | None]:
    """Each live thread's context switches (/proc/PID/status has the leader's only), and the
    peak RSS (VmHWM, the same in every thread's file; none for a zombie)."""
    out: dict[str, Figures] = {}
    peak: int | None = None
    for tid in tids or [str(pid)]:
        try:
            data = read_bytes(f"/proc/{pid}/task/{tid}/status")
        except FileNotFoundError:
            if tid == str(pid):
                raise
            continue  # a thread ended between listdir and open
        out[tid] = {
            "ctx_voluntary": status_field(data, b"\nvoluntary_ctxt_switches:") or 0,
            "ctx_involuntary": status_field(data, b"\nnonvoluntary_ctxt_switches:") or 0,
        }
        if peak is None and (hwm := status_field(data, b"\nVmHWM:")) is not None:
            peak = hwm * 1024  # kB
    return out, peak


def _reason(e: OSError) -> str:
    return "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e))


def _thread_schedstat(pid: int, tids: list[str] | None, ran: bytes) -> dict[str, Figures]:
    """Each live thread's time on a CPU and waiting for one, in ns (``ran``: the main
    thread's schedstat: on-CPU ns, waiting ns, timeslices)."""
    if tids is None:
        on, wait = ran.split()[:2]
        return {str(pid): {ON_CPU_NS: int(on), RUNQ_NS: int(wait)}}
    out: dict[str, Figures] = {}
    for tid in tids:
        try:
            on, wait = read_bytes(f"/proc/{pid}/task/{tid}/schedstat").split()[:2]
        except FileNotFoundError:
            continue  # a thread that ended between listdir and open
        out[tid] = {ON_CPU_NS: int(on), RUNQ_NS: int(wait)}
    return out


@dataclass(slots=True)
class _EndedThreads:
    """What a process's live threads' figures leave out: those of the threads that ended.
    Summed over the live threads alone, its I/O, switches and waits would drop as threads end
    (a trial saw a process's written bytes go 83,914,752 -> 4,096 while it slept, and come
    back at its exit)."""

    last: dict[str, Figures]  # each live thread but the leader (which outlives them): its reading
    ended: Figures  # the last readings of the threads that ended, summed


def _with_ended(
    pid: int, threads: dict[str, Figures], before: _EndedThreads | None
) -> tuple[Figures, _EndedThreads | None]:
    """The process's figures: its live ``threads``' and its ended threads' (a thread that
    ended counts with its last reading: what it did after it is in the exit record); and what
    to keep for the next reading (None: one thread, and never more)."""
    leader = str(pid)
    others = {tid: f for tid, f in threads.items() if tid != leader}
    if before is None and not others:
        return threads.get(leader, {}), None
    ended = dict(before.ended) if before is not None else {}
    for tid, figures in before.last.items() if before is not None else ():
        if tid not in others:
            for k, v in figures.items():
                ended[k] = ended.get(k, 0) + v
    total = dict(ended)
    for figures in threads.values():
        for k, v in figures.items():
            total[k] = total.get(k, 0) + v
    return total, _EndedThreads(others, ended)


def read_process(
    pid: int, prev: _Seen | None, now: float, ran: bytes, status: bool = True
) -> tuple[StatLine, ProcessSample, _EndedThreads | None] | None:
    """Read one process now (``now``: monotonic time; ``ran``: its main thread's schedstat,
    just read; ``status``: False to leave out its status files, whose figures the caller has
    from elsewhere: STATUS_FIGURES are None, with NOT_READ as the reason). ``prev``, this
    pid's previous reading,
    if it is the same process: the CPU rate is over the time since (else since the process
    started); the command line is kept while it runs the same program (a zombie's reads
    empty; an exec changes the name); a zombie keeps the peak RSS last read while it ran;
    the figures of its threads that ended since are kept (``_EndedThreads``)."""
    stat = read_stat(pid)
    if stat is None:
        return None
    if prev is not None and prev.starttime != stat.starttime:
        prev = None  # the pid was reused: another process
    try:  # listed once for the figures summed over threads (None: the process's own files)
        tids = None if stat.threads <= 1 else os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return None
    reasons: dict[str, str] = {}
    threads: dict[str, Figures] = {}

    def add(part: dict[str, Figures]) -> None:
        for tid, figures in part.items():
            threads.setdefault(tid, {}).update(figures)

    zombie_io: Figures | None = None
    try:
        add(_thread_io(pid, tids))
    except FileNotFoundError:
        return None
    except OSError as e:
        if prev is not None and stat.state == "Z":
            # A zombie's I/O can be closed to us where the live process's was not: its
            # last reading stands (an ended process keeps its last figures).
            zombie_io = {
                k: v for k in _IO_KEYS.values() if (v := getattr(prev.sample, k)) is not None
            }
        for k in _IO_KEYS.values():
            if k not in (zombie_io or {}):
                reasons[k] = f"/proc/{pid}/task/*/io: {_reason(e)}"
    peak: int | None = None
    try:
        if status:
            switches, peak = _thread_status(pid, tids)
            add(switches)
        else:
            reasons.update(dict.fromkeys(STATUS_FIGURES, NOT_READ))
    except FileNotFoundError:
        return None
    except OSError as e:
        reasons.update(dict.fromkeys(STATUS_FIGURES, f"/proc/{pid}/status: {_reason(e)}"))
    try:
        add(_thread_schedstat(pid, tids, ran))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError) as e:
        why = _reason(e) if isinstance(e, OSError) else "unreadable"
        reasons["runq_wait_s"] = f"/proc/{pid}/task/*/schedstat: {why}"
    total, ended_threads = _with_ended(pid, threads, prev.threads if prev is not None else None)
    if zombie_io is not None:
        total.update(zombie_io)

    def figure(key: str) -> int | None:
        return None if key in reasons else total.get(key)

    on_cpu = total.get(ON_CPU_NS, 0) / 1e9
    runq = None if "runq_wait_s" in reasons else total.get(RUNQ_NS, 0) / 1e9
    if prev is not None and prev.sample.name == stat.comm and prev.sample.cmdline:
        cmdline = prev.sample.cmdline
    else:
        try:
            raw_cmd = read_bytes(f"/proc/{pid}/cmdline")
        except OSError:
            raw_cmd = b""
        cmdline = tuple(decoded(a) for a in raw_cmd.split(b"\0") if a)
    alive = stat.state not in ("Z", "X")
    if peak is None and prev is not None and not alive and prev.sample.name == stat.comm:
        # A zombie's status has no VmHWM: the last one read (of the same program: an exec
        # starts the peak anew).
        peak = prev.sample.peak_rss_bytes
    if peak is None and "peak_rss_bytes" not in reasons:
        reasons["peak_rss_bytes"] = "not in /proc once the process has ended (a zombie)"
    # The scheduler's exact time of the threads (an ended one's until its last reading); the
    # ticks (utime + stime) hold all of every thread's, so whichever is more; and never less
    # than shown before.
    cpu_time = max((stat.utime + stat.stime) / CLK_TCK, on_cpu)
    if prev is not None:
        cpu_time = max(cpu_time, prev.sample.cpu_time_s or 0.0)
        used, dt = cpu_time - (prev.sample.cpu_time_s or 0.0), now - prev.at
    else:  # first reading: the rate since the process started
        used = cpu_time
        dt = time.clock_gettime(time.CLOCK_BOOTTIME) - stat.starttime / CLK_TCK
    sample = ProcessSample(
        pid=pid,
        ppid=stat.ppid,
        name=stat.comm,
        cmdline=cmdline,
        alive=alive,
        cpu_percent=max(0.0, used / dt * 100.0) if dt > 0 else None,
        cpu_time_s=cpu_time,
        cpu_user_s=stat.utime / CLK_TCK,
        cpu_system_s=stat.stime / CLK_TCK,
        runq_wait_s=runq,
        rss_bytes=stat.rss_pages * PAGE_SIZE if alive else 0,
        peak_rss_bytes=peak,
        read_bytes=figure("read_bytes"),
        write_bytes=figure("write_bytes"),
        read_chars=figure("read_chars"),
        write_chars=figure("write_chars"),
        state=stat.state,
        threads=stat.threads,
        ctx_voluntary=figure("ctx_voluntary"),
        ctx_involuntary=figure("ctx_involuntary"),
        minor_faults=stat.minflt,
        major_faults=stat.majflt,
        read_syscalls=figure("read_syscalls"),
        write_syscalls=figure("write_syscalls"),
        start_ts=start_ts(stat.starttime),
        null_reasons=reasons,
    )
    return stat, sample, ended_threads


@dataclass
class _Seen:
    starttime: int
    sample: ProcessSample
    at: float  # monotonic time of the reading
    ran: bytes  # /proc/PID/schedstat at that reading: unchanged means it has not run since
    threads: _EndedThreads | None = None  # its threads as read (None: one, and never more)


def read_ran(pid: int) -> bytes | None:
    """/proc/PID/schedstat (time on CPU, waiting, timeslices) of the main thread: it changes
    whenever that thread runs."""
    try:
        return read_bytes(f"/proc/{pid}/schedstat")
    except OSError:
        return None


# Unix time of the boot, taken once: every start time derived from it is then stable.
BOOT_TS = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)


def start_ts(starttime: int) -> float:
    """Unix time of a process start given in clock ticks after boot (good to a tick)."""
    return round(BOOT_TS + starttime / CLK_TCK, 3)


@dataclass
class ProcessTable:
    """The latest /proc reading of each live process of a tree.

    ``update(pids)`` reads each given pid and derives CPU % from the previous reading. A
    single-threaded process that has not run since its last reading (its schedstat is the
    same) is not read again: its figures cannot have changed, and the same sample object is
    returned (consumers can tell "unchanged" by identity). Processes not given, or gone,
    are returned once as ended (with their last figures) and forgotten.
    """

    _seen: dict[int, _Seen] = field(default_factory=dict)

    @staticmethod
    def _idle(prev: _Seen) -> ProcessSample:
        """The last reading of a process that has not run since: it used no CPU (the same
        object from then on)."""
        if prev.sample.cpu_percent:
            prev.sample = evolve(prev.sample, cpu_percent=0.0)
        return prev.sample

    def update(
        self, pids: Iterable[int], asleep: Container[int] = (), lean: Container[int] = ()
    ) -> tuple[list[ProcessSample], list[ProcessSample]]:
        """(live processes, processes ended since the previous update). ``asleep``: pids the
        caller knows have not run since the previous update (not read again); ``lean``: pids
        whose status files are not read (``read_process``)."""
        now = time.monotonic()
        ended: list[ProcessSample] = []  # processes gone since the last update
        live: list[ProcessSample] = []
        found: set[int] = set()
        seen = self._seen
        for pid in pids:
            prev = seen.get(pid)
            if prev is not None and pid in asleep and prev.sample.alive:
                found.add(pid)
                live.append(self._idle(prev))
                continue
            ran = read_ran(pid)
            if ran is None:
                continue
            if (
                prev is not None
                and ran == prev.ran
                and prev.sample.alive
                and prev.sample.threads == 1
            ):
                # Same schedstat: it has not run (a new process on a reused pid has run).
                found.add(pid)
                live.append(self._idle(prev))
                continue
            got = read_process(pid, prev, now, ran, pid not in lean)
            if got is None:
                continue
            stat, sample, threads = got
            if prev is not None and prev.starttime != stat.starttime:
                # The pid was reused: the process we knew ended.
                ended.append(_ended(prev.sample))
            seen[pid] = _Seen(stat.starttime, sample, now, ran, threads)
            if sample.alive:
                found.add(pid)
                live.append(sample)
        for pid in [pid for pid in seen if pid not in found]:
            ended.append(_ended(seen.pop(pid).sample))
        return live, ended

    def starttime(self, pid: int) -> int | None:
        seen = self._seen.get(pid)
        return seen.starttime if seen else None


def _ended(last: ProcessSample) -> ProcessSample:
    """A process's last reading, as an ended process (its cumulative figures are its last)."""
    if not last.alive:
        return last  # read as a zombie: its state says it
    return evolve(last, alive=False, cpu_percent=0.0, rss_bytes=0, state=None)
