"""Per-process figures from /proc, shared by every live collector.

Processes vanish between any two reads: that is normal and yields None, not an error.
Permission errors leave the affected fields None with the reason in ``null_reasons``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Container, Iterable
from dataclasses import dataclass, field, replace

from denet_tui.model import ProcessSample

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True, slots=True)
class StatLine:
    """The fields of /proc/PID/stat we use."""

    pid: int
    comm: str
    state: str
    ppid: int
    pgrp: int
    minflt: int
    majflt: int
    cpu_ticks: int  # utime + stime, whole thread group
    threads: int
    starttime: int  # clock ticks after boot: with pid, identifies a process across pid reuse
    rss_pages: int


def parse_stat(data: bytes) -> StatLine:
    # comm may contain spaces and ')' — split around the *last* ')'.
    lp, rp = data.index(b"("), data.rindex(b")")
    rest = data[rp + 2 :].split()
    return StatLine(
        pid=int(data[:lp]),
        comm=data[lp + 1 : rp].decode(errors="backslashreplace"),
        state=rest[0].decode(),
        ppid=int(rest[1]),
        pgrp=int(rest[2]),
        minflt=int(rest[7]),
        majflt=int(rest[9]),
        cpu_ticks=int(rest[11]) + int(rest[12]),
        threads=int(rest[17]),
        starttime=int(rest[19]),
        rss_pages=int(rest[21]),
    )


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def read_stat(pid: int) -> StatLine | None:
    try:
        return parse_stat(read_bytes(f"/proc/{pid}/stat"))
    except (OSError, ValueError, IndexError):
        return None


def _parse_kv(data: bytes, wanted: dict[bytes, str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in data.splitlines():
        key, _, value = line.partition(b":")
        name = wanted.get(key)
        if name is not None:
            out[name] = int(value.split()[0])
    return out


_IO_KEYS = {
    b"rchar": "read_chars",
    b"wchar": "write_chars",
    b"read_bytes": "read_bytes",
    b"write_bytes": "write_bytes",
    b"syscr": "read_syscalls",
    b"syscw": "write_syscalls",
}
_HWM_KEY = {b"VmHWM": "peak_rss_bytes"}  # kB
_CTX_KEYS = {
    b"voluntary_ctxt_switches": "ctx_voluntary",
    b"nonvoluntary_ctxt_switches": "ctx_involuntary",
}


def _status_figures(pid: int, threads: int) -> dict[str, int]:
    """Context switches (summed over the live threads: /proc/PID/status has the leader's only)
    and the peak RSS (VmHWM, the same in every thread's file)."""
    paths = (
        [f"/proc/{pid}/status"]
        if threads <= 1
        else [f"/proc/{pid}/task/{tid}/status" for tid in os.listdir(f"/proc/{pid}/task")]
    )
    total = {"ctx_voluntary": 0, "ctx_involuntary": 0}
    for p in paths:
        try:
            data = read_bytes(p)
        except FileNotFoundError:
            continue  # a thread ended between listdir and open
        for k, v in _parse_kv(data, _CTX_KEYS).items():
            total[k] += v
        if "peak_rss_bytes" not in total:
            hwm = _parse_kv(data, _HWM_KEY)
            if "peak_rss_bytes" in hwm:  # none for a zombie: its memory is gone
                total["peak_rss_bytes"] = hwm["peak_rss_bytes"] * 1024
    return total


def _reason(e: OSError) -> str:
    return "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e))


def read_process(
    pid: int, before: tuple[int, ProcessSample] | None = None
) -> tuple[StatLine, ProcessSample] | None:
    """Read one process now; ``cpu_percent`` is left None (it needs a previous reading).
    ``before``, this pid's previous reading (its starttime and sample), gives the command line
    while it is the same process running the same program (a zombie's reads empty; an exec
    changes the name)."""
    stat = read_stat(pid)
    if stat is None:
        return None
    reasons: dict[str, str] = {}
    io: dict[str, int] = {}
    try:
        io = _parse_kv(read_bytes(f"/proc/{pid}/io"), _IO_KEYS)
    except FileNotFoundError:
        return None
    except OSError as e:
        for k in _IO_KEYS.values():
            reasons[k] = f"/proc/{pid}/io: {_reason(e)}"
    try:
        ctx = _status_figures(pid, stat.threads)
    except FileNotFoundError:
        return None
    except OSError as e:
        ctx = {}
        for k in (*_CTX_KEYS.values(), "peak_rss_bytes"):
            reasons[k] = f"/proc/{pid}/status: {_reason(e)}"
    if (
        before is not None
        and before[0] == stat.starttime
        and before[1].name == stat.comm
        and before[1].cmdline
    ):
        cmdline = before[1].cmdline
    else:
        try:
            raw_cmd = read_bytes(f"/proc/{pid}/cmdline")
        except OSError:
            raw_cmd = b""
        cmdline = tuple(a.decode(errors="backslashreplace") for a in raw_cmd.split(b"\0") if a)
    alive = stat.state not in ("Z", "X")
    peak = ctx.get("peak_rss_bytes")
    if peak is None and "peak_rss_bytes" not in reasons:
        reasons["peak_rss_bytes"] = "not in /proc once the process has ended (a zombie)"
    sample = ProcessSample(
        pid=pid,
        ppid=stat.ppid,
        name=stat.comm,
        cmdline=cmdline,
        alive=alive,
        cpu_time_s=stat.cpu_ticks / CLK_TCK,
        rss_bytes=stat.rss_pages * PAGE_SIZE if alive else 0,
        peak_rss_bytes=peak,
        read_bytes=io.get("read_bytes"),
        write_bytes=io.get("write_bytes"),
        read_chars=io.get("read_chars"),
        write_chars=io.get("write_chars"),
        state=stat.state,
        threads=stat.threads,
        ctx_voluntary=ctx.get("ctx_voluntary"),
        ctx_involuntary=ctx.get("ctx_involuntary"),
        minor_faults=stat.minflt,
        major_faults=stat.majflt,
        read_syscalls=io.get("read_syscalls"),
        write_syscalls=io.get("write_syscalls"),
        start_ts=start_ts(stat.starttime),
        null_reasons=reasons,
    )
    return stat, sample


@dataclass
class _Seen:
    starttime: int
    sample: ProcessSample
    at: float  # monotonic time of the reading
    ran: bytes  # /proc/PID/schedstat at that reading: unchanged means it has not run since


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

    def update(
        self, pids: Iterable[int], asleep: Container[int] = ()
    ) -> tuple[list[ProcessSample], list[ProcessSample]]:
        """(live processes, processes ended since the previous update). ``asleep``: pids the
        caller knows have not run since the previous update (not read again)."""
        now = time.monotonic()
        ended: list[ProcessSample] = []  # processes gone since the last update
        live: list[ProcessSample] = []
        found: set[int] = set()
        seen = self._seen
        for pid in pids:
            prev = seen.get(pid)
            if prev is not None and pid in asleep and prev.sample.alive:
                found.add(pid)
                live.append(prev.sample)
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
                idle = prev.sample
                if idle.cpu_percent:
                    idle = prev.sample = replace(idle, cpu_percent=0.0)
                found.add(pid)
                live.append(idle)
                continue
            got = read_process(pid, None if prev is None else (prev.starttime, prev.sample))
            if got is None:
                continue
            stat, sample = got
            same = prev is not None and prev.starttime == stat.starttime
            if sample.cpu_time_s is not None:
                if same and prev is not None:
                    used, dt = sample.cpu_time_s - (prev.sample.cpu_time_s or 0.0), now - prev.at
                else:  # first reading: the rate since the process started
                    used = sample.cpu_time_s
                    dt = time.clock_gettime(time.CLOCK_BOOTTIME) - stat.starttime / CLK_TCK
                if dt > 0:
                    sample = replace(sample, cpu_percent=max(0.0, used / dt * 100.0))
            if same and prev is not None and sample.peak_rss_bytes is None and not sample.alive:
                # A zombie's status has no VmHWM: its peak is the last one read while it ran.
                reasons = {k: v for k, v in sample.null_reasons.items() if k != "peak_rss_bytes"}
                peak = prev.sample.peak_rss_bytes
                sample = replace(sample, peak_rss_bytes=peak, null_reasons=reasons)
            if not same and prev is not None:
                # The pid was reused: the process we knew ended.
                ended.append(_ended(prev.sample))
            seen[pid] = _Seen(stat.starttime, sample, now, ran)
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
    return replace(last, alive=False, cpu_percent=0.0, rss_bytes=0, state=None)
