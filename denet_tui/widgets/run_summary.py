"""The whole tree's figures, the way ``/usr/bin/time -v`` lists them: on screen (tab 4) and
printed when the screen closes, from the same totals as the ``end`` record."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from denet_tui.finished import wall_s
from denet_tui.model import CollectorInfo, ProcessSample, Snapshot
from denet_tui.widgets.format import NA, fmt_bytes, fmt_int, fmt_seconds, fmt_status
from denet_tui.widgets.time_view import runq_summary


def _known(totals: object, key: str) -> str:
    """`` (N processes without it)`` when the total leaves some out: a lower bound."""
    n = totals.unknown.get(key, 0)  # type: ignore[attr-defined]
    return f"  (lower bound: {n:,} process{'es' if n > 1 else ''} without it)" if n else ""


CPU_FLOOR = (
    "  (lower bound: an ended process's exit record misses its last time slice; exact with"
    " eBPF's sched family)"
)


def _at_least(totals: object, info: CollectorInfo) -> str:
    """``"≥ "`` where the tree's CPU time is a lower bound: processes have ended, and their CPU
    came from exit records (without the sched family), which miss each one's last time slice
    (for a short process, most of it: a trial's loop showed 45 ms of 90)."""
    ended = totals.processes_ended  # type: ignore[attr-defined]
    return "≥ " if ended and not info.has("sched", "exact") else ""


def summary_lines(
    snap: Snapshot, info: CollectorInfo, root: ProcessSample | None = None
) -> list[tuple[str, str]]:
    """(label, value) rows for the tree as of ``snap``; ``root``: the root process as last
    listed, where ``snap`` may not list it (it ended before)."""
    t = snap.totals
    root = snap.process(snap.target.pid) or root
    if root is not None and (command_wall := wall_s(root)) is not None:
        wall, wall_note = command_wall, "  (the command's, start to end)"
    else:
        done = snap.target.finished
        wall, wall_note = snap.t, "  (watched, to the last snapshot)" if done else "  (so far)"
    cpu = t.cpu_time_s
    share = f"  ({cpu / wall * 100:.0f}% of one core)" if cpu is not None and wall > 0 else ""
    cpu_note = _known(t, "cpu_time_s") or (CPU_FLOOR if _at_least(t, info) else "")
    split = NA
    if t.cpu_user_s is not None or t.cpu_system_s is not None:
        split = (
            f"{fmt_seconds(t.cpu_user_s)} user, {fmt_seconds(t.cpu_system_s)} system"
            "  (the kernel's tick-sampled split)" + _known(t, "cpu_user_s")
        )
    faults = NA
    if t.minor_faults is not None or t.major_faults is not None:
        faults = f"{fmt_int(t.major_faults)} major, {fmt_int(t.minor_faults)} minor"
    switches = NA
    if t.ctx_voluntary is not None or t.ctx_involuntary is not None:
        switches = f"{fmt_int(t.ctx_voluntary)} voluntary, {fmt_int(t.ctx_involuntary)} involuntary"
    sum_peak = NA
    if snap.memory is not None:  # the memory family: the kernel kept the sum at each change
        sum_peak = (
            f"{fmt_bytes(snap.memory.rss_sum_peak_bytes)}"
            "  (exact, at each change; shared pages count per process)"
        )
    elif t.rss_sum_peak_bytes is not None:
        sum_peak = f"≥ {fmt_bytes(t.rss_sum_peak_bytes)}  (sampled; at least the largest process)"
    states: list[tuple[str, str]] = []
    if t.sleeping_s is not None:  # the sched family: thread-seconds in each state
        sampled = info.has("sched", "sampled")  # /proc: estimates from sampled thread states
        how = "  (estimated: sampled thread states)" if sampled else ""
        waits = runq_summary(snap.sched.runq_hist if snap.sched else None, t.waiting_cpu_s)
        states = [
            ("Run-queue waits", waits or ("— (each wait: eBPF only)" if sampled else NA)),
            (
                "Sleeping (thread-seconds)",
                fmt_seconds(t.sleeping_s) + how + _known(t, "sleeping_s"),
            ),
            (
                "Uninterruptible, D (thread-seconds)",
                fmt_seconds(t.uninterruptible_s)
                + "  (in the kernel: disk, vfork's parent, other waits"
                + ("; estimated)" if sampled else ")")
                + _known(t, "uninterruptible_s"),
            ),
        ]
    calls = NA
    if info.syscalls == "sampled":
        calls = f"{NA} (/proc cannot count them: sampled shares in the Syscalls tab)"
    if t.syscalls is not None:
        calls = f"{fmt_int(t.syscalls)} ({info.syscalls or 'not counted'})"
    return [
        ("Command", fmt_status(snap.target)),
        ("Elapsed (wall clock) time", fmt_seconds(wall) + wall_note),
        ("CPU time, user + system", _at_least(t, info) + fmt_seconds(cpu) + share + cpu_note),
        ("User / system", split),
        ("Waiting for a CPU (run queue)", fmt_seconds(t.runq_wait_s) + _known(t, "runq_wait_s")),
        *states,
        ("Maximum resident set size", fmt_bytes(t.peak_rss_max_bytes) + "  (largest process)"),
        ("Peak of the summed RSS", sum_peak),
        ("Page faults", faults + _known(t, "minor_faults")),
        ("Context switches", switches + _known(t, "ctx_voluntary")),
        ("Disk bytes read", fmt_bytes(t.read_bytes) + _known(t, "read_bytes")),
        (
            "Disk bytes written",
            fmt_bytes(t.write_bytes)
            # (the Disk tab counts the block requests the tree itself started: fewer)
            + ("  (pages it dirtied, written back later included)" if t.write_bytes else "")
            + _known(t, "write_bytes"),
        ),
        ("System calls", calls),
        ("Processes", f"{t.processes_seen:,} ({t.processes_ended:,} ended)"),
    ]


def aligned(
    snap: Snapshot, info: CollectorInfo, root: ProcessSample | None = None
) -> list[tuple[str, str]]:
    """``summary_lines`` with each label padded to the longest (``"Label:   "``)."""
    rows = summary_lines(snap, info, root)
    width = max(len(label) for label, _ in rows) + 1
    return [(f"{label + ':':<{width}} ", value) for label, value in rows]


HEAD = "the whole tree, every process ever seen"
# A scope (Enter) narrows the tree, the syscalls and the sparklines, not these totals.
NOT_SCOPED = " (not only the scope's)"


def summary_text(
    snap: Snapshot, info: CollectorInfo, root: ProcessSample | None = None
) -> list[str]:
    """The lines printed when the screen closes."""
    return [HEAD + ":", *(f"  {label}{value}" for label, value in aligned(snap, info, root))]


class RunSummaryView(Widget):
    """The summary on screen (tab 4), for the tree so far; final once the command ended.
    (In a scrolled pane: an 80x24 terminal cuts its last lines.)"""

    can_focus = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: tuple[tuple[str, str], ...] = ()
        self._head = HEAD

    def show(
        self,
        snap: Snapshot,
        info: CollectorInfo,
        scoped: bool = False,
        root: ProcessSample | None = None,
    ) -> None:
        rows = tuple(summary_lines(snap, info, root))
        head = HEAD + (NOT_SCOPED if scoped else "")
        if (rows, head) != (self._rows, self._head):
            self._rows, self._head = rows, head
            self.refresh(layout=True)

    @property
    def plain(self) -> str:
        """What it shows, as plain lines (label: value)."""
        return "\n".join([self._head, "", *(f"{label}: {value}" for label, value in self._rows)])

    def render(self) -> RenderableType:
        # Two columns: a value too long for the screen wraps under itself, not under the labels.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        for label, value in self._rows:
            grid.add_row(f"{label}:", value)
        return Group(Text(self._head, style="dim"), Text(""), grid)
