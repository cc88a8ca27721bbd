"""The Time tab: where the wall time goes (the sched family), for the tree and per process.

A stacked bar splits thread-time into on a CPU (user and system), waiting for a CPU, sleeping
and uninterruptible (D), over the last interval and since the start; the run-queue waits'
percentiles come from the kernel's histogram; the table lists every process of the snapshot
with its states (``s`` sorts), and the bar of the row under the cursor. The user/system split
of the CPU time is the kernel's tick-sampled one (utime/stime) applied to the exact on-CPU
time, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from denet_tui.finished import RECENT
from denet_tui.model import ProcessSample, Snapshot
from denet_tui.rates import Rates, percentile_ns
from denet_tui.visible import visible
from denet_tui.widgets.fitted_log import Column, fitted, show_columns
from denet_tui.widgets.format import NA, fmt_int, fmt_ns, fmt_seconds
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.row_table import RowTable

# (figure key, label, bar character, style): the order of the bar's segments.
STATES: tuple[tuple[str, str, str, str], ...] = (
    ("user", "user", "█", "green"),
    ("system", "system", "█", "cyan"),
    ("waiting_cpu_s", "waiting", "█", "yellow"),
    ("uninterruptible_s", "D", "█", "red"),
    ("sleeping_s", "sleeping", "░", "blue"),
)
SHORT = {"user": "usr", "system": "sys", "waiting": "wait", "sleeping": "sleep"}  # (narrow)
SPLIT_NOTE = "user/system: the kernel's tick-sampled split"
NO_HIST = "each wait is seen only by eBPF's sched family (/proc sums them)"
SAMPLED_NOTE = "sleeping and D: estimated from thread states sampled ~100×/s (/proc)"


def split_cpu(
    on_cpu: float | None, user: float | None, system: float | None
) -> tuple[float | None, float | None]:
    """The exact on-CPU time split by the kernel's user/system ratio (None: no ratio known)."""
    if on_cpu is None or user is None or system is None or user + system <= 0:
        return None, None
    share = user / (user + system)
    return on_cpu * share, on_cpu * (1 - share)


def state_parts(values: Callable[[str], float | None]) -> dict[str, float | None]:
    """Thread-seconds per state from figure values (cumulative, or rates per second)."""
    on = values("on_cpu_s")
    user, system = split_cpu(on, values("cpu_user_s"), values("cpu_system_s"))
    if user is None and on is not None:
        user, system = on, 0.0  # no split known: all of it shown as one CPU segment
    return {
        "user": user,
        "system": system,
        "waiting_cpu_s": values("waiting_cpu_s"),
        "uninterruptible_s": values("uninterruptible_s"),
        "sleeping_s": values("sleeping_s"),
    }


def stacked_bar(parts: Mapping[str, float | None], width: int) -> Text:
    """``width`` cells split among the states in proportion (each non-zero state gets at
    least one cell); empty (dim dots) when nothing is known."""
    known = {k: v for k, v in parts.items() if v is not None and v > 0}
    total = sum(known.values())
    if total <= 0 or width <= 0:
        return Text("·" * max(0, width), style="dim")
    cells = {k: max(1, round(v / total * width)) for k, v in known.items()}
    # Take the rounding error from the largest segment.
    largest = max(cells, key=lambda k: known[k])
    cells[largest] = max(1, cells[largest] + width - sum(cells.values()))
    bar = Text(no_wrap=True, end="")
    for key, _label, char, style in STATES:
        if key in cells:
            bar.append(char * cells[key], style=style)
    return bar


def legend(parts: Mapping[str, float | None], *, rate: bool, width: int | None = None) -> Text:
    """Each state's share and amount: ``on CPU 1.2s (12%)``; a rate in CPUs (threads busy).
    Wider than ``width`` cells: the amounts alone (the bar above shows the shares), then with
    shorter labels."""
    known = [v for v in parts.values() if v is not None]
    total = sum(known)
    for shares, labels in ((total > 0, {}), (False, {}), (False, SHORT)):
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        for key, label, char, style in STATES:
            v = parts.get(key)
            if v is None:
                continue
            if out.plain:
                out.append("  ")
            out.append(char, style=style)
            amount = f"{v:.2f} s/s" if rate else fmt_seconds(v)  # (thread-seconds a second)
            share = f" ({v / total * 100:.0f}%)" if shares else ""
            out.append(f" {labels.get(label, label)} {amount}{share}")
        if width is None or out.cell_len <= width:
            break
    return out


def packed(notes: list[str], width: int) -> list[str]:
    """The notes joined with `` · `` into as few lines of ``width`` cells as they fit in."""
    lines: list[str] = []
    for note in notes:
        if lines and len(lines[-1]) + 3 + len(note) <= width:
            lines[-1] += " · " + note
        else:
            lines.append(note)
    return lines


def runq_summary(hist: tuple[int, ...] | None, total_s: float | None = None) -> str | None:
    """How many run-queue waits, and their p50/p99 (None: none yet); ``total_s``: all of the
    waits' time together, which no single wait passes."""
    if not hist or not sum(hist):
        return None
    ceiling = None if total_s is None else total_s * 1e9
    p50, p99 = percentile_ns(hist, 0.5, ceiling), percentile_ns(hist, 0.99, ceiling)
    return f"{sum(hist):,} · p50 ~{fmt_ns(p50)} · p99 ~{fmt_ns(p99)} (log2 buckets: good to 2×)"


def histogram_lines(hist: tuple[int, ...] | None, width: int = 40) -> list[Text]:
    """One line per non-empty bucket, from the first to the last used: ``≥16µs ████ 123``."""
    if not hist or not sum(hist):
        return []
    used = [i for i, n in enumerate(hist) if n]
    top = max(hist)
    lines = []
    for i in range(used[0], used[-1] + 1):
        n = hist[i]
        line = Text(f"{'≥' + fmt_ns(2**i):>8} ", style="dim", no_wrap=True, end="")
        line.append("▇" * max(1 if n else 0, round(n / top * width)), style="yellow")
        line.append(f" {n:,}")
        lines.append(line)
    return lines


class TimeBreakdown(Static):
    """The bars: the scope over the last interval and since the start, and the selected
    process; then the run-queue waits."""

    _shown: tuple | None = None  # what show() was last given (drawn again at each resize)

    def on_resize(self) -> None:
        if self._shown is not None:
            args, sampled = self._shown
            self.show(*args, sampled=sampled)  # bars as wide as the pane (shown before its
            # first layout too, as when its tab is opened)

    def show(
        self,
        snap: Snapshot,
        interval: Rates | None,
        scope: str,
        selected: ProcessSample | None,
        scoped: tuple[ProcessSample, ...] | None = None,
        *,
        sampled: bool = False,
    ) -> None:
        """``scoped``: the scope's processes listed now, when a subtree is chosen (its figures
        since the start are theirs; the tree's totals also hold what ended long ago).
        ``sampled``: asleep and D are estimates from sampled thread states (/proc)."""
        self._shown = ((snap, interval, scope, selected, scoped), sampled)
        width = max(10, self.size.width - 18)
        lines: list[Text] = []
        t = snap.totals
        rows: list[tuple[str, dict[str, float | None], bool]] = []
        if interval is not None and not snap.target.finished:  # (after the end: nothing runs)
            parts = state_parts(interval.__getitem__)
            if not sampled:
                # A nap counts when it ends: over one interval that can be many seconds a
                # second (a 12 s nap ending), so the interval shows CPU and waiting only.
                parts["sleeping_s"] = parts["uninterruptible_s"] = None
            rows.append(("last interval", parts, True))
        if scoped is None:
            rows.append(("since start", state_parts(lambda k: getattr(t, k, None)), False))
        else:
            rows.append(("listed, total", state_parts(lambda k: _sum(scoped, k)), False))
        if selected is not None:
            name = f"{visible(selected.name)[:8]} {selected.pid}"
            rows.append((name, state_parts(lambda k: _figure(selected, k)), False))
        for label, parts, rate in rows:
            head = Text(f"{label:>15} ", style="bold", no_wrap=True, end="")
            lines.append(head + stacked_bar(parts, width))
            text = legend(parts, rate=rate, width=width + 2)
            if text.cell_len <= width + 2:
                lines.append(Text(" " * 16, end="") + text)
            else:  # under its bar, from the left edge: the room of the label too
                lines.append(legend(parts, rate=rate, width=width + 18))
        total = getattr(snap.totals, "waiting_cpu_s", None)
        waits = runq_summary(snap.sched.runq_hist, total) or "none yet" if snap.sched else NO_HIST
        lines.append(Text(f"run-queue waits, whole tree: {waits}"))
        if sampled:  # first, where a narrow screen cannot cut it off
            lines.append(Text(SAMPLED_NOTE, style="bold yellow"))
        # Most needed first: the narrow screen keeps two lines of them.
        notes = ["listed: the subtree's processes on screen now"] if scoped is not None else []
        if any(rate for _label, _parts, rate in rows):
            notes.append("s/s: thread-seconds a second")
        notes += [
            SPLIT_NOTE,
            "waiting: for a CPU",
            "D: uninterruptible (disk, a vfork parent, other kernel waits)",
        ]
        if not sampled:
            notes.append("a nap counts when it ends (so not per interval)")
        room = self.size.width or 120
        # (At most two lines below 100 columns, cut: the rows below need the room.)
        lines += [Text(n, style="dim") for n in packed(notes, room)[: 3 if room >= 100 else 2]]
        self.update(Text("\n", no_wrap=True, overflow="ellipsis").join(lines))
        title = f"where the time goes · {scope}"
        if selected is not None:
            title += f" · {visible(selected.name)} {selected.pid}"
        set_border_title(self, title)


def _sum(processes: tuple[ProcessSample, ...], key: str) -> float | None:
    known = [v for p in processes if (v := _figure(p, key)) is not None]
    return sum(known) if known else None


def _figure(p: ProcessSample, key: str) -> float | None:
    if key in ("cpu_user_s", "cpu_system_s"):
        return getattr(p, key)
    return getattr(p.sched, key, None) if p.sched is not None else None


# (key, title, width); the process first.
COLUMNS: tuple[Column, ...] = (
    ("pid", "PID", 7),
    ("name", "COMMAND", 14),
    ("on_cpu_s", "ON CPU", 8),
    ("waiting_cpu_s", "WAIT", 8),
    ("sleeping_s", "SLEEP", 8),
    ("uninterruptible_s", "D", 8),
    ("wait_share", "WAIT%", 6),
    ("voluntary_switches", "VCSW", 6),
    ("involuntary_switches", "ICSW", 6),
)
# Narrower, step by step, so that no column is cut at the table's edge (a cut right-aligned
# figure reads as another: "5" of "501.0ms"): the switches left out, then the share and part
# of the name, then D, then the pid.
NARROW: tuple[dict[str, int], ...] = (
    {"voluntary_switches": 0, "involuntary_switches": 0},
    {"wait_share": 0, "name": 10},
    {"uninterruptible_s": 0},
    {"pid": 0},
)
SORT_NAMES = {
    "on_cpu_s": "time on CPU",
    "waiting_cpu_s": "time waiting for a CPU",
    "sleeping_s": "time asleep",
    "uninterruptible_s": "time in D state",
    "wait_share": "share of CPU time spent waiting",
    "involuntary_switches": "preemptions",
}
SORT_KEYS = tuple(SORT_NAMES)


def wait_share(p: ProcessSample) -> float | None:
    """Its time waiting for a CPU over the time it wanted one (waiting + on a CPU)."""
    s = p.sched
    if s is None or s.on_cpu_s + s.waiting_cpu_s <= 0:
        return None
    return s.waiting_cpu_s / (s.on_cpu_s + s.waiting_cpu_s)


def sort_value(p: ProcessSample, key: str) -> float:
    if key == "wait_share":
        return wait_share(p) or 0.0
    return float(getattr(p.sched, key, 0) or 0) if p.sched is not None else 0.0


def sched_cells(p: ProcessSample) -> dict[str, str]:
    s = p.sched
    share = wait_share(p)
    return {
        "pid": str(p.pid),
        "name": visible(p.name),  # (struck through once ended, as in the process tree)
        "on_cpu_s": fmt_seconds(s.on_cpu_s) if s else NA,
        "waiting_cpu_s": fmt_seconds(s.waiting_cpu_s) if s else NA,
        "sleeping_s": fmt_seconds(s.sleeping_s) if s else NA,
        "uninterruptible_s": fmt_seconds(s.uninterruptible_s) if s else NA,
        "wait_share": NA if share is None else f"{share * 100:.0f}",
        "voluntary_switches": fmt_int(s.voluntary_switches) if s else NA,
        "involuntary_switches": fmt_int(s.involuntary_switches) if s else NA,
    }


def row_key(p: ProcessSample) -> str:
    """A row's key: its pid and start (a pid may be reused by a later process)."""
    return f"{p.pid}@{p.start_ts}"


class SchedTable(RowTable):
    """The live processes and the latest ended ones with their time states; ``s`` sorts by
    the next one."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.sort_key = "on_cpu_s"
        self._procs: tuple[ProcessSample, ...] = ()
        self._shown: tuple[Column, ...] = ()
        self._use(COLUMNS)

    def _use(self, columns: tuple[Column, ...]) -> None:
        self._shown = show_columns(self, self._shown, columns)

    def on_resize(self) -> None:
        if self._fitted() != self._shown:
            self._fill()

    def _fitted(self) -> tuple[Column, ...]:
        width = self.size.width - self.styles.scrollbar_size_vertical
        return fitted(COLUMNS, NARROW, width, 0) if width > 0 else self._shown

    def show(self, processes: tuple[ProcessSample, ...]) -> None:
        if processes == self._procs:
            return
        self._procs = processes
        self._fill()

    def selected(self) -> ProcessSample | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return next((p for p in self._procs if row_key(p) == key), None)

    def _fill(self) -> None:
        chosen = self.selected()
        self._use(self._fitted())
        self.clear()
        order = sorted(self._procs, key=lambda p: (-sort_value(p, self.sort_key), p.pid))
        for p in order:
            cells = sched_cells(p)
            row = [
                Text(
                    cells[k],
                    justify="left" if k == "name" else "right",
                    style="" if p.alive else "dim strike" if k == "name" else "dim",
                    no_wrap=True,
                    overflow="ellipsis",  # a long name cut visibly
                )
                for k, _, _ in self._shown
            ]
            self.add_row(*row, key=row_key(p))
        if chosen is not None and any(row_key(p) == row_key(chosen) for p in order):
            self.move_cursor(row=self.get_row_index(row_key(chosen)))
        titles = {k: t for k, t, _ in COLUMNS}
        for key, column in self.columns.items():
            base = titles[str(key.value)]
            column.label = Text(base + ("▼" if key.value == self.sort_key else ""))
        ended = sum(not p.alive for p in self._procs)
        kept = f" · {ended:,} ended (the latest {RECENT:,} kept)" if ended else ""
        set_border_title(self, f"processes{kept} · sorted by {SORT_NAMES[self.sort_key]} (s)")

    def action_cycle_sort(self) -> None:
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._fill()
        if self.row_count:  # a new order is read from its top (as the Syscalls tab's)
            self.move_cursor(row=0, animate=False)
        self.scroll_home(animate=False)


class RunqHistogram(Static):
    """The tree's run-queue waits, bucket by bucket."""

    _hist: tuple[int, ...] | None = None

    def show(self, hist: tuple[int, ...] | None) -> None:
        """``hist``: None when no collector counts each wait."""
        self._hist = hist
        lines = histogram_lines(hist, width=max(5, self.size.width - 20))
        empty = "no waits yet" if hist is not None else NO_HIST
        self.update(Text("\n").join(lines) if lines else Text(empty, style="dim"))
        set_border_title(self, "run-queue waits, tree")

    def on_resize(self) -> None:
        self.show(self._hist)  # bars as wide as the pane (shown before its first layout too)


HISTOGRAM_FROM = 100  # columns of the tab from which the run-queue histogram is shown


class TimeTab(Vertical):
    """The Time tab's panes, kept in step: the row under the cursor gets its own bar."""

    def compose(self) -> ComposeResult:
        yield TimeBreakdown(id="time-bars")
        with Horizontal(id="time-lower"):
            yield SchedTable(id="sched-table")
            yield RunqHistogram(id="runq-hist")

    def show(
        self,
        snap: Snapshot,
        interval: Rates | None,
        scope: str,
        processes: tuple[ProcessSample, ...],
        scoped: bool = False,
        *,
        sampled: bool = False,
    ) -> None:
        """``sampled``: asleep and D are the /proc collector's estimates."""
        table = self.query_one(SchedTable)
        table.show(processes)
        self._show_bars = lambda: self.query_one(TimeBreakdown).show(
            snap, interval, scope, table.selected(), processes if scoped else None, sampled=sampled
        )
        self._show_bars()
        self.query_one(RunqHistogram).show(snap.sched.runq_hist if snap.sched else None)

    def on_resize(self) -> None:
        # Below 100 columns the table takes the width: the histogram's p50 and p99 are in the
        # bars' lines above.
        self.query_one(RunqHistogram).display = self.size.width >= HISTOGRAM_FROM

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        show_bars = getattr(self, "_show_bars", None)
        if show_bars is not None:
            show_bars()
