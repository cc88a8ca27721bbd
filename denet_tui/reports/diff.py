"""``denet-tui diff A B``: two runs side by side — the tree's totals, syscall categories,
syscalls, and per command (processes matched by their command line, never by pid) — with the
absolute and relative change, the biggest changes first.

Figures that timing or the machine's state decides (CPU and wall time, time in syscalls,
context switches, the calls of waiting and polling: futex, poll, nanosleep, …; and what the page
cache and the address layout decide: bytes read from disk, page faults, peak memory) differ
between two runs of the same work; they are marked and listed after the others, so a change in
the work itself comes first.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from denet_tui.figures import COUNTERS
from denet_tui.model import PEAKS, ProcessSample
from denet_tui.recording import Recording
from denet_tui.syscalls import TIMING_DEPENDENT
from denet_tui.visible import visible

# Timing decides these (read and write calls as /proc counts them are read at the last sample
# before a short process ends: its exit record rounds them down to a multiple of 1,024); the
# page cache and the address layout decide the disk bytes, faults and memory peaks.
TIMED_FIGURES = frozenset(
    {"cpu_time_s", "cpu_user_s", "cpu_system_s", "runq_wait_s", "on_cpu_s", "waiting_cpu_s",
     "sleeping_s", "uninterruptible_s", "ctx_voluntary", "ctx_involuntary",
     "voluntary_switches", "involuntary_switches", "wall_s", "read_syscalls", "write_syscalls",
     "read_bytes", "write_bytes", "blk_read_bytes", "blk_write_bytes", "blk_read_ops",
     "blk_write_ops", "minor_faults", "major_faults", "peak_rss_bytes", "peak_rss_max_bytes",
     "rss_sum_peak_bytes"}
)  # fmt: skip
# Besides the waiting calls: how often the heap grows (brk) follows the address layout, and how
# many signals arrive (rt_sigreturn) who ran first; so does a process's syscall total.
VARYING_SYSCALLS = TIMING_DEPENDENT | {"brk", "rt_sigreturn"}
COMMAND_FIGURES = ("processes", "cpu_time_s", "wall_s", "peak_rss_bytes", "syscalls",
                   "read_bytes", "write_bytes")  # fmt: skip
VARYING_PER_COMMAND = TIMED_FIGURES | {"syscalls"}


@dataclass(frozen=True, slots=True)
class Change:
    section: str  # "total", "category", "syscall", "command"
    name: str  # the figure, category, syscall or command line
    figure: str  # what is compared (calls, errors, time_s, or a figure's key)
    a: float
    b: float
    timing: bool  # timing or the machine's state decides it: it moves between runs of the same work

    @property
    def delta(self) -> float:
        return self.b - self.a

    @property
    def relative(self) -> float:
        """The change as a fraction of A (inf: from nothing)."""
        if self.a == 0:
            return 0.0 if self.b == 0 else math.inf
        return self.delta / self.a

    def to_dict(self) -> dict[str, Any]:
        rel = self.relative
        return {
            "section": self.section, "name": self.name, "figure": self.figure, "a": self.a,
            "b": self.b, "change": self.delta, "relative": None if math.isinf(rel) else rel,
            "timing_dependent": self.timing,
        }  # fmt: skip


def _totals(rec: Recording) -> dict[str, float]:
    t = rec.last.totals
    out = {f.key: getattr(t, f.key) for f in COUNTERS}
    out |= {k: getattr(t, k) for k in PEAKS}
    out |= {"processes_seen": t.processes_seen, "wall_s": rec.wall_s}
    return {k: v for k, v in out.items() if v is not None}


# A temporary file's name (gcc's /tmp/ccKd4SSg.s, -fresolution=/tmp/ccyjvWqP.res) differs at
# every run: blanked for matching, its extension kept.
TEMP_PATH = re.compile(r"(/(?:var/)?tmp/)[^\s/]*?(\.\w+)?(?=\s|$)")


def command_key(p: ProcessSample) -> str:
    """How a process is matched between two runs: its command line, temporary names blanked."""
    return TEMP_PATH.sub(
        lambda m: f"{m.group(1)}*{m.group(2) or ''}", " ".join(p.cmdline) or p.name
    )


def _commands(rec: Recording) -> dict[str, dict[str, float]]:
    """Per command line, its processes' figures summed (peak RSS: the largest)."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COMMAND_FIGURES, 0.0))
    for p in rec.processes.values():
        row = out[command_key(p)]
        row["processes"] += 1
        for key in COMMAND_FIGURES[1:]:
            v = _figure(p, key)
            if v is not None:
                row[key] = max(row[key], v) if key == "peak_rss_bytes" else row[key] + v
    return out


def _figure(p: ProcessSample, key: str) -> float | None:
    if key == "wall_s":
        return None if p.start_ts is None or p.end_ts is None else p.end_ts - p.start_ts
    if key == "syscalls":
        return None if p.syscalls is None else p.syscalls.count
    return getattr(p, key)


def changes(a: Recording, b: Recording) -> list[Change]:
    """Every figure both runs have, biggest relative change first (timing-dependent ones after
    the others; unchanged ones last)."""
    out: list[Change] = []
    ta, tb = _totals(a), _totals(b)
    for key in ta.keys() & tb.keys():
        out.append(Change("total", "tree", key, ta[key], tb[key], key in VARYING_PER_COMMAND))
    for section, attr in (("category", "by_category"), ("syscall", "by_name")):
        ra, rb = getattr(a.last.syscalls, attr), getattr(b.last.syscalls, attr)
        for name in ra.keys() | rb.keys():
            sa, sb = ra.get(name), rb.get(name)
            # A category's sums hold its waiting calls too; its syscalls are compared one by one.
            timing = section == "category" or name in VARYING_SYSCALLS
            for fig, scale in (("count", 1), ("errors", 1), ("time_ns", 1e-9)):
                va = getattr(sa, fig, None) if sa else 0
                vb = getattr(sb, fig, None) if sb else 0
                if va is None or vb is None:
                    continue
                label = {"count": "calls", "time_ns": "time_s"}.get(fig, fig)
                out.append(Change(section, name, label, va * scale, vb * scale,
                                  timing or fig == "time_ns"))  # fmt: skip
    ca, cb = _commands(a), _commands(b)
    for cmd in ca.keys() | cb.keys():
        for key in COMMAND_FIGURES:
            va, vb = ca.get(cmd, {}).get(key, 0.0), cb.get(cmd, {}).get(key, 0.0)
            out.append(Change("command", cmd, key, va, vb, key in VARYING_PER_COMMAND))
    out = [c for c in out if c.a or c.b]
    out.sort(key=lambda c: (c.delta == 0, c.timing, -abs(c.relative), -abs(c.delta), c.name))
    return out


def num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() and abs(v) >= 1 else f"{v:,.4g}"


def _rel(c: Change) -> str:
    r = c.relative
    return "new" if math.isinf(r) else f"{r * 100:+.1f}%"


def cut(text: str, n: int) -> str:
    """Untrusted text on one line of at most ``n`` characters."""
    text = visible(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def render(a: Recording, b: Recording, rows: list[Change], show_all: bool = False) -> str:
    shown = rows if show_all else [c for c in rows if c.delta != 0]
    lines = [
        f"{x}: {visible(r.path)}  ({cut(r.command, 60)}, {r.wall_s:.2f} s, "
        f"{len(r.processes):,} processes)"
        + (
            f" — cut short at line {r.truncated_at}: its last snapshot's figures"
            if r.truncated_at
            else ""
        )
        for x, r in (("A", a), ("B", b))
    ] + [
        f"{len(shown):,} of {len(rows):,} figures changed; '~': timing or the machine's state "
        "(page cache, address layout) decides it: expect it to move between runs of the same work",
        "",
        f"{'SECTION':<9} {'WHAT':<34} {'FIGURE':<15} {'A':>14} {'B':>14} {'CHANGE':>14} {'%':>9}",
    ]
    if not shown:
        lines.append("(no change)")
    for c in shown:
        name = cut(c.name, 34)
        lines.append(
            f"{c.section:<9} {name:<34} {c.figure:<15} {num(c.a):>14} {num(c.b):>14} "
            f"{num(c.delta):>14} {_rel(c):>9}{' ~' if c.timing else ''}"
        )
    return "\n".join(lines) + "\n"


def regressions(rows: list[Change], limit: float) -> list[Change]:
    """Figures of the work that grew by more than ``limit`` (a fraction) from A to B; those that
    timing or the machine's state decides aside (they move between runs of the same work)."""
    return [c for c in rows if c.delta > 0 and c.relative > limit and not c.timing]
