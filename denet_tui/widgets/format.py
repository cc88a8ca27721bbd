"""How figures are written on screen: one place, so every pane says the same thing the same way.

A figure that is unknown is written :data:`NA` ("—"), never 0.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from rich.text import Text

from denet_tui.model import CollectorInfo, TargetStatus
from denet_tui.signals import exit_text, signal_name

NA = "—"

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def fmt_bytes(n: float | None, *, compact: bool = False) -> str:
    """``1536`` → ``"1.5 KiB"`` (compact: ``"1.5K"``)."""
    if n is None:
        return NA
    value = float(n)
    unit = 0
    while abs(value) >= 1024 and unit < len(_BINARY) - 1:
        value /= 1024
        unit += 1
    if compact:
        suffix = "B" if unit == 0 else _BINARY[unit][0]
        return f"{value:.0f}{suffix}" if unit == 0 or value >= 100 else f"{value:.1f}{suffix}"
    if unit == 0:
        return f"{value:.0f} B"
    return f"{value:.0f} {_BINARY[unit]}" if value >= 100 else f"{value:.1f} {_BINARY[unit]}"


def fmt_count(n: float | None) -> str:
    """Short form for tight columns: ``12345`` → ``"12.3k"``."""
    if n is None:
        return NA
    value = float(n)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.0f}{suffix}" if scaled >= 100 else f"{scaled:.1f}{suffix}"
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def fmt_int(n: int | None) -> str:
    """Exact counts, as strace writes them: ``12345`` → ``"12,345"``."""
    return NA if n is None else f"{n:,}"


def fmt_ns(ns: float | None) -> str:
    """A duration with a unit that keeps three significant figures: ``"12.3µs"``."""
    if ns is None:
        return NA
    for limit, div, unit in ((1e9, 1e9, "s"), (1e6, 1e6, "ms"), (1e3, 1e3, "µs")):
        if ns >= limit:
            v = ns / div
            return (
                f"{v:.0f}{unit}" if v >= 100 else f"{v:.1f}{unit}" if v >= 10 else f"{v:.2f}{unit}"
            )
    return f"{ns:.0f}ns"


def fmt_percent(fraction: float | None, *, estimate: bool = False) -> str:
    """A fraction as a percentage; estimates carry a ``~``."""
    if fraction is None:
        return NA
    return f"{'~' if estimate else ''}{fraction * 100:.1f}%"


def fmt_cpu(percent: float | None) -> str:
    return NA if percent is None else f"{percent:.1f}"


def fmt_cpu_time(seconds: float | None) -> str:
    """Cumulative CPU time as htop's TIME+: ``"1:02.35"``, or ``"2h03:04"`` past an hour."""
    if seconds is None:
        return NA
    cs = round(seconds * 100)
    m, cs = divmod(cs, 6000)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}:{cs // 100:02d}" if h else f"{m}:{cs // 100:02d}.{cs % 100:02d}"


def fmt_seconds(seconds: float | None) -> str:
    """A duration down to microseconds: ``"850µs"``, ``"3.2ms"``, ``"1.25s"``, ``"2:03.4"``."""
    if seconds is None:
        return NA
    if seconds == 0:
        return "0"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f}µs"
    if seconds < 1:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    return fmt_cpu_time(seconds)


def fmt_elapsed(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def fmt_status(st: TargetStatus) -> str:
    if st.status == "exited":
        return f"exited with code {st.exit_code}"
    if st.status == "killed":
        return f"killed by {signal_name(st.signal)}" if st.signal else "killed"
    if st.status == "gone":
        return "process gone"
    if st.status == "stopped":
        return f"stopped (kill -CONT {st.pid} resumes it)"
    return st.status


def collector_label(info: CollectorInfo) -> str:
    """``"eBPF · exact"`` or ``"/proc · sampled — <why not eBPF>"``."""
    name = {"ebpf": "eBPF", "procfs": "/proc"}.get(info.name, info.name)
    label = f"{name} · {info.syscalls or 'no syscalls'}"
    if info.syscalls == "exact" and info.share_basis == "count":
        label += " (counts only, no latency)"
    return f"{label} — {info.reason}" if info.reason else label


# What each family's loss counter (diagnostics) counts: its events or figures that a full ring
# buffer or table left out.
LOSSES = (
    ("exec_lost", "execs"),
    ("signals_lost", "signals"),
    ("privileges_lost", "privileged calls"),
    ("files_full", "file calls"),
    ("caps_full", "capability checks"),
    ("conns_lost", "connections"),
    ("sched_full", "scheduler figures"),
    ("mem_full", "memory figures"),
    ("net_full", "network figures"),
    ("disk_full", "disk figures"),
)


def data_warnings(diagnostics: Mapping[str, Any]) -> list[str]:
    """What a collector says it could not measure, in words (nothing when all is well)."""
    out = []
    if lost := diagnostics.get("lost"):
        out.append(f"{lost:,} figures lost (kernel maps full)")
    if events := [f"{n:,} {what}" for key, what in LOSSES if (n := diagnostics.get(key))]:
        out.append("lost: " + ", ".join(events) + " (kernel buffers full)")
    if errors := diagnostics.get("thread_read_errors"):
        out.append(f"{errors:,} thread reads failed")
    if denied := diagnostics.get("thread_samples_denied"):
        out.append(f"{denied:,} thread samples denied (not root?)")
    if isinstance(why := diagnostics.get("exit_records"), str):
        out.append(f"no final figures at exit ({why})")
    if lost := diagnostics.get("exit_records_lost"):
        out.append(f"exit records lost {lost:,} times (socket buffer full)")
    return out


def counted(n: int, one: str, many: str | None = None) -> str:
    """``"1 exec"``, ``"2,048 execs"`` (``many``: the plural, where it is not ``one`` + s)."""
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def clock_ms(ts: float) -> str:
    """A unix time as the local time of day, to the millisecond: ``14:03:07.215``."""
    return datetime.datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:12]


def fmt_exit(code: int | None, killed_by: int | None) -> str:
    return NA if code is None else exit_text(code, killed_by)


def keep_tail(text: Text, width: int) -> Text:
    """``text`` in at most ``width`` cells, its start given up for "…" if it must be (a path's
    file name is at its end)."""
    if text.cell_len <= width:
        return text
    cut = text[len(text) - max(1, width - 1) :]
    while cut.cell_len > width - 1 and len(cut) > 1:
        cut = cut[1:]
    return Text("…", style=text.style) + cut
