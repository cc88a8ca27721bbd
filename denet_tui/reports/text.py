"""``report --format text``: the syscall table as ``strace -c`` prints it (same columns, same
order: by time, or by calls when no time was measured), and a summary in the words of
``/usr/bin/time -v``; ``--format csv``: one row per process ever seen."""

from __future__ import annotations

import csv
import io

from denet_tui.figures import NUMERIC
from denet_tui.model import SyscallStat
from denet_tui.recording import Recording
from denet_tui.visible import visible
from denet_tui.widgets.format import NA

RULE = "------ ----------- ----------- --------- --------- ----------------"


def strace_table(rec: Recording) -> str:
    """The tree's syscalls, every process ever seen, as ``strace -f -c`` prints them."""
    rows = [(n, s) for n, s in rec.last.syscalls.by_name.items() if s.count]
    timed = any(s.time_ns is not None for _, s in rows)

    def time_s(s: SyscallStat) -> float:
        return (s.time_ns or 0) / 1e9

    rows.sort(key=lambda r: (-time_s(r[1]), -(r[1].count or 0), r[0]) if timed else
              (-(r[1].count or 0), r[0]))  # fmt: skip
    total_s = sum(time_s(s) for _, s in rows)
    calls = sum(s.count or 0 for _, s in rows)
    errors = sum(s.errors or 0 for _, s in rows)
    out = ["% time     seconds  usecs/call     calls    errors syscall", RULE]

    def line(share: float, secs: float, count: int, errs: int, name: str) -> str:
        per = round(secs * 1e6 / count) if count else 0
        return (
            f"{share:6.2f} {secs:11.6f} {per:11d} {count:9d} {errs or '':>9} {name}"
            if timed
            else f"{'':>6} {'':>11} {'':>11} {count:9d} {errs or '':>9} {name}"
        )

    for name, s in rows:
        share = time_s(s) / total_s * 100 if total_s else 0.0
        out.append(line(share, time_s(s), s.count or 0, s.errors or 0, name))
    out += [RULE, line(100.0, total_s, calls, errors, "total")]
    if not timed:
        out.append("(no times: the run counted calls only, --no-latency or the /proc collector)")
    return "\n".join(out) + "\n"


def _clock(seconds: float) -> str:
    """``/usr/bin/time``'s wall clock: ``h:mm:ss`` or ``m:ss.cc``."""
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{int(s):02d}" if h else f"{m}:{s:05.2f}"


def time_summary(rec: Recording) -> str:
    """The tree's figures as ``/usr/bin/time -v`` words them (its figures cover the command and
    every descendant it waited for: so do these, every process ever seen)."""
    t = rec.last.totals

    def val(v: float | None, fmt: str = "{:d}") -> str:
        return NA if v is None else fmt.format(v)

    user, system = t.cpu_user_s, t.cpu_system_s
    cpu = (user or 0) + (system or 0)
    wall = rec.wall_s
    kb = None if t.peak_rss_max_bytes is None else t.peak_rss_max_bytes // 1024
    blocks = [None if v is None else v // 512 for v in (t.read_bytes, t.write_bytes)]
    lines = [
        f'Command being timed: "{visible(rec.command)}"',
        f"User time (seconds): {val(user, '{:.2f}')}",
        f"System time (seconds): {val(system, '{:.2f}')}",
        f"Percent of CPU this job got: {round(cpu / wall * 100) if wall else 0}%",
        f"Elapsed (wall clock) time (h:mm:ss or m:ss): {_clock(wall)}",
        f"Maximum resident set size (kbytes): {val(kb)}",
        f"Major (requiring I/O) page faults: {val(t.major_faults)}",
        f"Minor (reclaiming a frame) page faults: {val(t.minor_faults)}",
        f"Voluntary context switches: {val(t.ctx_voluntary)}",
        f"Involuntary context switches: {val(t.ctx_involuntary)}",
        f"File system inputs: {val(blocks[0])}",
        f"File system outputs: {val(blocks[1])}",
        f"Processes: {t.processes_seen}",
        f"Exit status: {val(rec.exit_code)}",
    ]
    return "".join(f"\t{x}\n" for x in lines)


def text_report(rec: Recording) -> str:
    note = (
        f"(cut short at line {rec.truncated_at}: the figures are the last snapshot's)\n"
        if rec.truncated_at
        else ""
    )
    return strace_table(rec) + "\n" + time_summary(rec) + note


CSV_FIELDS = ("pid", "ppid", "name", "cmdline", "start_ts", "end_ts", "exit_code")


def csv_report(rec: Recording) -> str:
    """One row per process ever seen (its last figures), in order of start."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*CSV_FIELDS, *(f.key for f in NUMERIC)])
    procs = sorted(rec.processes.values(), key=lambda p: (p.start_ts or 0, p.pid))
    for p in procs:
        w.writerow(
            [p.pid, p.ppid, p.name, " ".join(p.cmdline), p.start_ts, p.end_ts, p.exit_code,
             *("" if (v := f.of(p)) is None else v for f in NUMERIC)]
        )  # fmt: skip
    return buf.getvalue()
