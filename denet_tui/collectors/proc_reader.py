"""Per-process figures from /proc, shared by every live collector.

Processes vanish between any two reads: that is normal and yields None, not an error.
Permission errors leave the affected fields None with the reason in ``null_reasons``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
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
_CTX_KEYS = {
    b"voluntary_ctxt_switches": "ctx_voluntary",
    b"nonvoluntary_ctxt_switches": "ctx_involuntary",
}


def _ctx_switches(pid: int, threads: int) -> dict[str, int]:
    # /proc/PID/status reports the leader thread only; sum the live threads for the process.
    paths = (
        [f"/proc/{pid}/status"]
        if threads <= 1
        else [f"/proc/{pid}/task/{tid}/status" for tid in os.listdir(f"/proc/{pid}/task")]
    )
    total = {"ctx_voluntary": 0, "ctx_involuntary": 0}
    for p in paths:
        try:
            for k, v in _parse_kv(read_bytes(p), _CTX_KEYS).items():
                total[k] += v
        except FileNotFoundError:
            continue  # a thread ended between listdir and open
    return total


def _reason(e: OSError) -> str:
    return "permission denied" if isinstance(e, PermissionError) else (e.strerror or str(e))


def read_process(pid: int) -> tuple[StatLine, ProcessSample] | None:
    """Read one process now; ``cpu_percent`` is left None (it needs a previous reading)."""
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
        ctx = _ctx_switches(pid, stat.threads)
    except FileNotFoundError:
        return None
    except OSError as e:
        ctx = {}
        for k in _CTX_KEYS.values():
            reasons[k] = f"/proc/{pid}/status: {_reason(e)}"
    try:
        raw_cmd = read_bytes(f"/proc/{pid}/cmdline")
    except OSError:
        raw_cmd = b""
    cmdline = tuple(a.decode(errors="backslashreplace") for a in raw_cmd.split(b"\0") if a)
    alive = stat.state not in ("Z", "X")
    sample = ProcessSample(
        pid=pid,
        ppid=stat.ppid,
        name=stat.comm,
        cmdline=cmdline,
        alive=alive,
        cpu_time_s=stat.cpu_ticks / CLK_TCK,
        rss_bytes=stat.rss_pages * PAGE_SIZE if alive else 0,
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
        null_reasons=reasons,
    )
    return stat, sample


@dataclass
class _Seen:
    starttime: int
    sample: ProcessSample
    at: float  # monotonic time of the reading


@dataclass
class ProcessTable:
    """The processes of one tree over time: latest figures for the living, last ones for the dead.

    ``update(pids)`` reads each given pid, derives CPU % from the previous reading, and marks
    every known process not in ``pids`` (or whose pid was reused) as exited, keeping its last
    cumulative figures so tree totals never go backwards.
    """

    _seen: dict[int, _Seen] = field(default_factory=dict)

    def update(self, pids: Iterable[int]) -> list[ProcessSample]:
        now = time.monotonic()
        live: set[int] = set()
        for pid in pids:
            got = read_process(pid)
            if got is None:
                continue
            stat, sample = got
            prev = self._seen.get(pid)
            same = prev is not None and prev.starttime == stat.starttime
            if same and not sample.cmdline and prev is not None and prev.sample.name == stat.comm:
                # A zombie's cmdline reads empty: keep the one read while it ran (the same
                # program: an exec since, e.g. of a gated child, changes the name).
                sample = replace(sample, cmdline=prev.sample.cmdline)
            if sample.cpu_time_s is not None:
                if same and prev is not None:
                    used, dt = sample.cpu_time_s - (prev.sample.cpu_time_s or 0.0), now - prev.at
                else:  # first reading: the rate since the process started
                    used = sample.cpu_time_s
                    dt = time.clock_gettime(time.CLOCK_BOOTTIME) - stat.starttime / CLK_TCK
                if dt > 0:
                    sample = replace(sample, cpu_percent=max(0.0, used / dt * 100.0))
            if sample.alive:
                live.add(pid)
            self._seen[pid] = _Seen(stat.starttime, sample, now)
        for pid, seen in self._seen.items():
            if pid not in live and seen.sample.alive:
                seen.sample = replace(
                    seen.sample, alive=False, cpu_percent=0.0, rss_bytes=0, state=None
                )
            elif pid not in live and seen.sample.cpu_percent:
                seen.sample = replace(seen.sample, cpu_percent=0.0)
        return [s.sample for s in self._seen.values()]

    def starttime(self, pid: int) -> int | None:
        seen = self._seen.get(pid)
        return seen.starttime if seen else None
