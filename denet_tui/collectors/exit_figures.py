"""An ended process's final figures from its exit record (``taskstats.ExitRecord``): merged
into what was seen of it while it ran, or standing alone for a process /proc never saw."""

from __future__ import annotations

from collections.abc import Collection

from denet_tui.collectors.taskstats import ExitRecord, kernel_split
from denet_tui.evolve import evolve
from denet_tui.figures import FIGURES
from denet_tui.model import ProcessSample


def with_kernel_split(p: ProcessSample, shown: ProcessSample | None = None) -> ProcessSample:
    """``p`` with its user/system split rescaled to its CPU time where a more exact figure
    raised that time (the sched family's, or one seen before the exit record), so the two
    parts still add up to it; and neither below what ``shown`` (the same process's last sample)
    said, the kernel's own rule: a split made afresh from the ticks moved time from one part to
    the other (a process that ran all-user, its later ticks all in the kernel, showed its user
    time fall 0.0223 -> 0.0207 s; a root at its exit, by its exit record, 0.019 -> 0.0065)."""
    total, user, system = p.cpu_time_s, p.cpu_user_s, p.cpu_system_s
    if total is None or user is None or system is None:
        return p
    floor = (0.0, 0.0)
    if shown is not None and shown.cpu_time_s is not None and shown.cpu_time_s <= total:
        floor = (shown.cpu_user_s or 0.0, shown.cpu_system_s or 0.0)
    if abs(user + system - total) < 1e-9 and user >= floor[0] and system >= floor[1]:
        return p
    user, system = kernel_split(total, user, system, before=floor)
    return evolve(p, cpu_user_s=user, cpu_system_s=system)


# taskstats rounds these down to a multiple of 1,024 (KB_MASK in kernel/tsacct.c): where the
# last /proc reading is higher (a zombie's is final), it is the better figure.
ROUNDED_DOWN = (
    "read_bytes",
    "write_bytes",
    "read_chars",
    "write_chars",
    "read_syscalls",
    "write_syscalls",
)
# The record's peak is the kernel's high-water mark, made of its batched per-CPU counters
# (VmHWM's source): a peak seen while the process ran (the memory family's exact sums, or a
# live VmHWM) can be higher, and then it is the better figure.
# Likewise CPU time, waits, switches and faults: the sched family's figures run to the task's
# last switch, after the teardown that the record, written earlier in the exit, misses (a fault
# there would make the record's count lower than one shown before).
AT_LEAST_SEEN = (
    *ROUNDED_DOWN,
    "peak_rss_bytes",
    "cpu_time_s",
    "runq_wait_s",
    "ctx_voluntary",
    "ctx_involuntary",
    "minor_faults",
    "major_faults",
)
# Counts that rounding makes meaningless for a short process: null when /proc never read one.
ROUNDED_COUNTS = ("read_syscalls", "write_syscalls")
ROUNDED_REASON = (
    "not known: the kernel's exit record rounds this count down to a multiple of 1,024, and "
    "/proc never read the process"
)
# Byte counts of any size (disk bytes come in whole pages, which the rounding keeps): a record's
# 0 says "under 1,024" (a trial: 200 short processes that wrote 64,542 bytes in all, 0 each).
ROUNDED_BYTES = ("read_chars", "write_chars")
UNDER_1K_REASON = (
    "under 1,024 bytes: the kernel's exit record rounds it down to a multiple of 1,024, and "
    "/proc never read the process"
)

# The figures an exit record gives, as ProcessSample fields.
RECORD_FIGURES = (
    "cpu_time_s",
    "cpu_user_s",
    "cpu_system_s",
    "runq_wait_s",
    "peak_rss_bytes",
    *ROUNDED_DOWN,
    "minor_faults",
    "major_faults",
    "ctx_voluntary",
    "ctx_involuntary",
)


def at_exit(
    p: ProcessSample,
    rec: ExitRecord,
    family_reason: str | None,
    own: Collection[str] = (),
    last_exec_known: bool = False,
) -> ProcessSample:
    """Ended process ``p`` with the kernel's final figures from its exit record. Figures the
    record does not have keep their value, or stay null with ``family_reason`` (the reason
    ``p`` gave for all of /proc's figures, if it had one). ``own``: figures of ``p`` that are
    the better ones (the sched family's, to the task's last switch, which the record misses:
    its user/system split; and every one of run mode's command, which counts from its exec
    where the record counts from the fork: ~350 page faults of our Python's copy before it).
    ``last_exec_known``: ``p``'s command line is its last exec's (the eBPF tracker sees every
    exec), so a record naming it otherwise means it renamed itself (PR_SET_NAME)."""
    figures: dict[str, object] = {
        name: getattr(rec, name) for name in RECORD_FIGURES if name not in own
    }
    rounded: dict[str, str] = {}
    for name in AT_LEAST_SEEN:
        if name in own:
            continue
        seen = getattr(p, name)
        if seen is not None and seen > figures[name]:  # type: ignore[operator]
            figures[name] = seen
        elif seen is None and name in ROUNDED_COUNTS:
            # Up to 1,023 calls short: for most processes the record says 0.
            figures[name] = None
            rounded[name] = ROUNDED_REASON
        elif seen is None and name in ROUNDED_BYTES and figures[name] == 0:
            figures[name] = None
            rounded[name] = UNDER_1K_REASON
    code, signal = p.exit_code, p.killed_by_signal  # the run root's, or its exit_group's
    if code is None:
        code, signal = rec.exit_code, rec.killed_by_signal
    # The name it ended with: /proc may last have read it before an exec (a forked shell),
    # and then the arguments read were the earlier program's.
    renamed = bool(rec.comm) and rec.comm != p.name
    changes = {
        **figures,
        "name": rec.comm if renamed else p.name,
        "cmdline": () if renamed and not last_exec_known else p.cmdline,
        "alive": False,
        "cpu_percent": 0.0,
        "rss_bytes": 0,
        "state": None,  # an ended process has none
        "exit_code": code,
        "killed_by_signal": signal,
    }
    reasons = {k: v for k, v in p.null_reasons.items() if k not in figures and k != "proc"}
    reasons.update(rounded)
    if code is not None:
        reasons.pop("exit_code", None)
    if family_reason is not None:
        for f in FIGURES:
            if f.family != "proc" or f.key == "state":
                continue
            if (changes[f.key] if f.key in changes else getattr(p, f.key)) is None:
                reasons.setdefault(f.key, family_reason)
    # One copy with every change (a build ends hundreds of processes a second); the split never
    # below the one shown while it ran.
    return with_kernel_split(evolve(p, **changes, null_reasons=reasons), p)


def only_at_exit(rec: ExitRecord) -> ProcessSample:
    """A process /proc never saw, as its exit record tells it."""
    bare = ProcessSample(
        pid=rec.tgid,
        ppid=rec.ppid or None,
        name=rec.comm,
        cmdline=(),
        alive=False,
        start_ts=float(rec.start_s),
        null_reasons={"end_ts": "seen only in its exit record, which has no end time"},
    )
    return at_exit(bare, rec, "seen only in its exit record")
