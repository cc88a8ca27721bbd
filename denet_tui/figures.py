"""Every per-process figure, declared once: what it is called, which family measures it, its
unit, whether it is a counter (cumulative: shown as a rate per second), its labels on screen and
its description. The JSON Schema's descriptions, the sparklines and the tree's columns read it
from here (and, later, the Prometheus names).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["percent", "seconds", "bytes", "calls", "count", "state"]


@dataclass(frozen=True, slots=True)
class Figure:
    key: str  # the ProcessSample field
    family: str  # "proc" (read from /proc by every live collector) or a probe family
    unit: Unit
    counter: bool  # cumulative since the start: its change per second is the rate shown
    label: str  # a sparkline's label (the rate of a counter)
    column: str  # the tree's column title (the rate of a counter)
    doc: str


FIGURES: tuple[Figure, ...] = (
    Figure(
        "cpu_percent",
        "proc",
        "percent",
        False,
        "CPU",
        "CPU%",
        "CPU over the last interval; 100 = one core (the first reading: since the process started)",
    ),
    Figure(
        "cpu_time_s",
        "proc",
        "seconds",
        True,
        "CPU",
        "TIME+",
        "CPU time, user + system, of the whole process; cumulative",
    ),
    Figure("rss_bytes", "proc", "bytes", False, "RSS", "RSS", "resident memory now"),
    Figure(
        "read_bytes",
        "proc",
        "bytes",
        True,
        "disk read",
        "DISK R/s",
        "disk: bytes this process caused to be read from storage (/proc/PID/io read_bytes); "
        "cumulative",
    ),
    Figure(
        "write_bytes",
        "proc",
        "bytes",
        True,
        "disk write",
        "DISK W/s",
        "disk: bytes this process caused to be sent to storage (/proc/PID/io write_bytes); "
        "cumulative",
    ),
    Figure(
        "read_chars",
        "proc",
        "bytes",
        True,
        "I/O read",
        "IO R/s",
        "logical I/O: bytes returned by read()-family calls, whatever the source (disk, page "
        "cache, pipe, socket, tty): /proc/PID/io rchar; cumulative",
    ),
    Figure(
        "write_chars",
        "proc",
        "bytes",
        True,
        "I/O write",
        "IO W/s",
        "logical I/O: bytes passed to write()-family calls: /proc/PID/io wchar; cumulative",
    ),
    Figure(
        "state",
        "proc",
        "state",
        False,
        "state",
        "ST",
        "scheduler state from /proc/PID/stat: R running, S sleeping, D uninterruptible "
        "(disk), T stopped, t traced, Z zombie, X dead, I idle",
    ),
    Figure("threads", "proc", "count", False, "threads", "THR", "threads now"),
    Figure(
        "syscalls",
        "syscalls",
        "calls",
        True,
        "syscalls",
        "sc/s",
        "every syscall of the process, counted in the kernel; cumulative",
    ),
    Figure(
        "read_syscalls",
        "proc",
        "calls",
        True,
        "r/w calls",
        "rw/s",
        "read-family calls (/proc/PID/io syscr); cumulative",
    ),
    Figure(
        "write_syscalls",
        "proc",
        "calls",
        True,
        "r/w calls",
        "rw/s",
        "write-family calls (/proc/PID/io syscw); cumulative",
    ),
)

BY_KEY = {f.key: f for f in FIGURES}


def figure(key: str) -> Figure:
    return BY_KEY[key]
