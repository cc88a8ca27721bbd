"""One bar per syscall category: share, count, rate and time — or, sampled, the estimated share."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from denet_tui.model import CategoryStat, CollectorInfo, ShareBasis, SyscallSummary
from denet_tui.widgets.format import NA, fmt_count, fmt_int, fmt_ns, fmt_percent
from denet_tui.widgets.redraw import set_border_title

CATEGORY_STYLE = {
    "file_io": "#5fafff",
    "network": "#87d787",
    "memory": "#d7af5f",
    "process": "#d787d7",
    "signal": "#ff875f",
    "ipc": "#5fd7d7",
    "sync": "#afaf5f",
    "time": "#af87ff",
    "sched": "#87afaf",
    "security": "#ff5f87",
    "system": "#d7d7d7",
    "other": "#8a8a8a",
}
_EIGHTHS = " ▏▎▍▌▋▊▉"
NAME_W = 9
MIN_BAR = 8
SHARE_W = 7


def bar(fraction: float | None, width: int) -> str:
    """A left-aligned bar of ``width`` cells with eighth-cell resolution."""
    if fraction is None or width <= 0:
        return " " * max(0, width)
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    return ("█" * full + (_EIGHTHS[part] if part else "")).ljust(width)


@dataclass(frozen=True, slots=True)
class _Col:
    title: str
    width: int
    cell: Callable[[CategoryStat, float | None], str]


def _columns(exact: bool, basis: ShareBasis, width: int) -> list[_Col]:
    if not exact:
        cols = [_Col("HITS", 7, lambda s, r: fmt_count(s.samples))]
    else:
        cols = [
            _Col("CALLS", 8, lambda s, r: fmt_count(s.count)),
            _Col("/s", 7, lambda s, r: fmt_count(r)),
            _Col("TIME", 8, lambda s, r: fmt_ns(s.time_ns) if basis == "time" else NA),
            _Col("ERR", 7, lambda s, r: fmt_count(s.errors)),
        ]
    # Drop the least important columns until the bar has room.
    while cols and NAME_W + MIN_BAR + 1 + SHARE_W + sum(1 + c.width for c in cols) > width:
        cols.pop()
    return cols


def _share_title(exact: bool, basis: ShareBasis, width: int) -> str:
    if not exact:
        titles = ("ESTIMATED SHARE OF TIME (sampled)", "EST. SHARE (sampled)", "EST. SHARE")
    else:
        # Time inside syscalls, blocking included (wait4, poll): not CPU time (the Time tab
        # shows that), and it can exceed the wall time.
        time_titles = (
            "SHARE OF TIME IN SYSCALLS, BLOCKING INCL.",
            "SHARE OF TIME IN SYSCALLS",
            "SHARE OF SYSCALL TIME",
            "SYSCALL TIME",
        )
        titles = {"time": time_titles, "count": ("SHARE OF CALLS",)}.get(basis or "", ("SHARE",))
    return next((t for t in titles if len(t) <= width), titles[-1][:width])


def bars_text(
    summary: SyscallSummary | None,
    rates: Mapping[str, float | None],
    *,
    exact: bool,
    width: int,
    height: int | None = None,
) -> Text:
    """A title row, then one row per category that has any figure, biggest share first.

    With ``height``, categories that do not fit are named on one last ``+N more`` row.
    """
    if summary is None:  # no titles either: what the columns mean depends on the collector
        return Text("waiting for data…", style="dim", no_wrap=True, overflow="crop", end="")
    basis = summary.share_basis
    cols = _columns(exact, basis, width)
    bar_w = max(MIN_BAR, width - NAME_W - 1 - SHARE_W - sum(1 + c.width for c in cols))
    out = Text(no_wrap=True, overflow="crop", end="")
    out.append("CATEGORY".ljust(NAME_W), style="bold")
    out.append(_share_title(exact, basis, bar_w + 1 + SHARE_W).ljust(bar_w + 1 + SHARE_W), "bold")
    for c in cols:
        out.append(" " + c.title.rjust(c.width), style="bold")
    stats = {
        cat: st
        for cat, st in summary.by_category.items()
        if any(v for v in (st.count, st.samples, st.time_ns))
    }
    if not stats:
        out.append("\n")
        out.append("no syscalls seen yet", "dim")
        return out

    def order(item: tuple[str, CategoryStat]) -> tuple[float, float]:
        st = item[1]
        return (-(st.share or 0.0), -(st.count or st.samples or 0))

    ranked = sorted(stats.items(), key=order)
    room = len(ranked) if height is None else max(1, height - 1)
    if room < len(ranked):
        ranked, folded = ranked[: room - 1], ranked[room - 1 :]
    else:
        folded = []
    for cat, st in ranked:
        style = CATEGORY_STYLE.get(cat, "white")
        out.append("\n")
        out.append(cat.ljust(NAME_W), style=style)
        out.append(bar(st.share, bar_w), style=style)
        out.append(" ")
        out.append(fmt_percent(st.share, estimate=not exact).rjust(SHARE_W), style="bold")
        for c in cols:
            out.append(" " + c.cell(st, rates.get(cat)).rjust(c.width))
    if folded:
        share = sum(st.share or 0.0 for _, st in folded)
        names = ", ".join(cat for cat, _ in folded)
        out.append("\n")
        out.append(
            f"+{len(folded)} more ({fmt_percent(share, estimate=not exact)}): {names}", "dim"
        )
    return out


def title(summary: SyscallSummary | None, exact: bool, rate: float | None) -> str:
    """The pane's title: total calls (exact), or why there is no count (sampled)."""
    if summary is None:
        return "categories"
    if not exact:
        return "categories · sampled: shares only"
    per_s = f" · {fmt_count(rate)}/s" if rate is not None else ""
    return f"categories · {fmt_int(summary.total)} calls{per_s}"


class CategoryBars(Widget):
    """Syscall categories of the current scope."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._summary: SyscallSummary | None = None
        self._rates: Mapping[str, float | None] = {}
        self._exact = False
        self.border_title = title(None, False, None)

    def show(
        self,
        summary: SyscallSummary | None,
        rates: Mapping[str, float | None],
        *,
        collector: CollectorInfo,
        total_rate: float | None,
    ) -> None:
        exact = collector.has("syscalls", "exact")
        set_border_title(self, title(summary, exact, total_rate))
        if (summary, rates, exact) != (self._summary, self._rates, self._exact):
            self._summary, self._rates, self._exact = summary, rates, exact
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # Every category, unfolded: CSS max-height caps it, and render() folds into what is left.
        return (
            bars_text(self._summary, self._rates, exact=self._exact, width=width).plain.count("\n")
            + 1
        )

    def render(self) -> Text:
        size = self.size
        return bars_text(
            self._summary, self._rates, exact=self._exact, width=size.width, height=size.height
        )
