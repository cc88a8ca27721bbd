"""The syscall table, like ``strace -c``: calls, errors, % time, total, avg, p99 — what the
collector has. Rows are updated in place and re-sorted only when the order changes.

Two table columns: the name, and every figure of the row as one text laid out in the figures'
own columns. A busy tree changes most rows every second, and the table draws each of its cells
on its own (each update draws every row again): one cell for the figures instead of seven made
drawing it a third cheaper. The titles are laid out the same way, and a click on one sorts by
the figure under it. A figure's column widens to its widest value (a heavy build makes tens of
millions of calls): a number is never cut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Span, Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.widgets.data_table import ColumnKey

from denet_tui.model import CollectorInfo, SyscallSummary
from denet_tui.rates import percentile_ns
from denet_tui.widgets.category_bars import CATEGORY_STYLE
from denet_tui.widgets.format import fmt_int, fmt_ns, fmt_percent
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.row_table import RowTable

# Columns per mode: (key, title, width), most important first: when the pane is narrow, the
# columns at the end are left out. Every mode starts with the name.
MODES: dict[str, list[tuple[str, str, int]]] = {
    "time": [
        ("syscall", "SYSCALL", 16),
        ("calls", "CALLS", 9),
        ("time", "% TIME", 6),
        ("p99", "P99", 7),
        ("errors", "ERRORS", 6),
        ("avg", "AVG", 7),
        ("total", "TOTAL", 7),
        ("category", "CATEGORY", 8),
    ],
    "count": [
        ("syscall", "SYSCALL", 16),
        ("calls", "CALLS", 9),
        ("share", "% CALLS", 7),
        ("errors", "ERRORS", 6),
        ("category", "CATEGORY", 8),
    ],
    "samples": [
        ("syscall", "SYSCALL", 16),
        ("time", "EST.%TIME", 9),
        ("hits", "HITS", 6),
        ("category", "CATEGORY", 8),
    ],
}
# What `s` cycles through, per mode (largest first, except the name); only shown columns count.
SORTS: dict[str, tuple[str, ...]] = {
    "time": ("time", "calls", "errors", "p99", "avg", "total", "syscall"),
    "count": ("calls", "errors", "syscall"),
    "samples": ("hits", "syscall"),
}
PADDING = 1  # cells each side of a column
FIGURES = "figures"  # the table column of every figure but the name


def cell_width(title: str, width: int) -> int:
    """Room for the column's figures and for its title with the sort mark (``▼``)."""
    return max(width, len(title) + 1)


LEFT_ALIGNED = frozenset({"category"})  # the other figures are numbers
GAP = " " * (2 * PADDING)  # between two figures: the padding of each


Figures = list[tuple[str, str, int]]  # (key, title, cells) of each figure column, in order


def figure_widths(
    mode: str, columns: tuple[str, ...], rows: list[TableRow], widest: dict[str, int]
) -> Figures:
    """The figure columns shown (the name's aside), each as wide as its title, its usual width
    and the widest value it has had (``widest``, kept up to date: a column never narrows)."""
    out = []
    for key, title, width in MODES[mode]:
        if key not in columns[1:]:
            continue
        values = max((len(r.cells[key].plain) for r in rows), default=0)
        widest[key] = max(widest.get(key, 0), values)
        out.append((key, title, max(cell_width(title, width), widest[key])))
    return out


def laid_out(parts: list[tuple[Text, int, bool]]) -> Text:
    """Texts each in a column of its own width (``(text, width, left)``: cut with an ellipsis
    where too long, aligned left or right), separated as the table separates its columns.
    (Made of plain strings and spans: every row of a busy tree is laid out each second.)"""
    plain: list[str] = []
    spans: list[Span] = []
    at = 0
    for i, (text, width, left) in enumerate(parts):
        if i:
            plain.append(GAP)
            at += len(GAP)
        s = text.plain
        if len(s) > width:
            s = s[: width - 1] + "…"
        start = at if left else at + width - len(s)
        plain.append(s.ljust(width) if left else s.rjust(width))
        if text.style:  # the whole cell's, as a table cell's style is
            spans.append(Span(at, at + width, text.style))
        spans.extend(
            Span(start + min(sp.start, len(s)), start + min(sp.end, len(s)), sp.style)
            for sp in text.spans
        )
        at += width
    return Text("".join(plain), spans=spans, no_wrap=True, end="")


def fitting(
    mode: str, width: int, *, without: frozenset[str] = frozenset(), keep: str | None = None
) -> tuple[str, ...]:
    """The columns of ``mode`` (less ``without``) that fit in ``width`` cells: the name always,
    and ``keep`` (the sort column) always, in place of the last ones that fit if need be."""
    cols = [
        (key, cell_width(t, w) + 2 * PADDING) for key, t, w in MODES[mode] if key not in without
    ]
    widths = dict(cols)
    keys: list[str] = []
    used = 0
    for key, w in cols:
        used += w
        if keys and used > width:
            break
        keys.append(key)
    if keep in widths and keep not in keys:
        while len(keys) > 1 and sum(widths[k] for k in keys) + widths[keep] > width:
            keys.pop()
        keys.append(keep)
    order = [key for key, _w in cols]
    return tuple(sorted(keys, key=order.index))


@dataclass(frozen=True, slots=True)
class TableRow:
    name: str
    cells: dict[str, Text]
    sort: dict[str, float | str]


def mode_of(summary: SyscallSummary, exact: bool) -> str:
    if not exact:
        return "samples"
    return "time" if summary.share_basis == "time" else "count"


def table_rows(summary: SyscallSummary, mode: str) -> list[TableRow]:
    """Formatted cells and raw sort values for every syscall with any figure."""
    stats = {n: s for n, s in summary.by_name.items() if s.count or s.samples}
    total_time = sum(s.time_ns or 0 for s in stats.values())
    total_calls = sum(s.count or 0 for s in stats.values())
    total_hits = sum(s.samples or 0 for s in stats.values())
    rows = []
    for name, s in stats.items():
        share = {
            "time": (s.time_ns or 0) / total_time if total_time and s.time_ns is not None else None,
            "count": (s.count or 0) / total_calls if total_calls else None,
            "samples": (s.samples or 0) / total_hits if total_hits else None,
        }[mode]
        avg = s.time_ns / s.count if s.time_ns is not None and s.count else None
        p99 = percentile_ns(s.hist, 0.99, s.time_ns)
        values: dict[str, tuple[str, float | str | None]] = {
            "calls": (fmt_int(s.count), s.count),
            "errors": (fmt_int(s.errors), s.errors),
            "time": (fmt_percent(share, estimate=mode == "samples"), share),
            "share": (fmt_percent(share), share),
            "total": (fmt_ns(s.time_ns), s.time_ns),
            "avg": (fmt_ns(avg), avg),
            "p99": (fmt_ns(p99), p99),
            "hits": (fmt_int(s.samples), s.samples),
        }
        cells: dict[str, Text] = {
            "syscall": Text(name, no_wrap=True, overflow="ellipsis"),
            "category": Text(s.category, style=CATEGORY_STYLE.get(s.category, "")),
        }
        sort: dict[str, float | str] = {"syscall": name, "category": s.category}
        for key, _title, _w in MODES[mode]:
            if key in cells:
                continue
            text, raw = values[key]
            style = "red" if key == "errors" and s.errors else ""
            cells[key] = Text(text, justify="right", style=style)
            sort[key] = -(raw if raw is not None else -1.0)
        rows.append(TableRow(name, cells, sort))
    return rows


class SyscallTable(RowTable):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "cycle_sort", "Sort")]

    def __init__(self, *, id: str | None = None) -> None:
        # The cursor shows only while focused: unfocused, it would read as a selection.
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=True, cell_padding=PADDING, show_cursor=False
        )
        self.mode: str | None = None
        self.shown_columns: tuple[str, ...] = ()
        self.sort_key = ""
        self._chosen = False  # the sort key is the user's choice, not the mode's default
        self._fresh = True  # no rows sorted since the columns were (re)made
        self._summary: SyscallSummary | None = None
        self._collector: CollectorInfo | None = None
        self._shown_width = 0
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._sort: dict[str, dict[str, float | str]] = {}
        self._figures: Figures = []  # the figure columns, after the name
        self._widest: dict[str, int] = {}  # the widest value of each figure so far
        self.border_title = "syscalls"

    def show(self, summary: SyscallSummary | None, *, collector: CollectorInfo) -> None:
        exact = collector.has("syscalls", "exact")
        width = self.scrollable_content_region.width
        if (summary, collector, width) == (self._summary, self._collector, self._shown_width):
            return  # the same figures (an idle tree): nothing to format again
        self._summary, self._collector = summary, collector
        if summary is None:
            return
        mode = mode_of(summary, exact)
        # Latency histograms may exist for the whole tree only (not per process): no P99 then.
        no_hist = mode == "time" and not any(st.hist for st in summary.by_name.values())
        without = frozenset({"p99"}) if no_hist else frozenset()
        set_border_title(
            self, "syscalls · P99 n/a: no latency histogram here" if no_hist else "syscalls"
        )
        if width <= 0:
            # Not laid out (its tab hidden): not shown, so the next call with these figures
            # draws them (on_resize too).
            self._shown_width = 0
            return
        self._shown_width = width
        # The sort column the user chose stays, and stays marked, whatever the width.
        chosen = self._chosen and mode == self.mode
        keep = self.sort_key if chosen else None
        columns = fitting(mode, width, without=without, keep=keep)
        rows = table_rows(summary, mode)
        figures = figure_widths(mode, columns, rows, self._widest)
        if (mode, columns, figures) != (self.mode, self.shown_columns, self._figures):
            self._make_columns(mode, columns, figures, chosen)
        self._fill(rows)
        self._sort = {r.name: r.sort for r in rows}
        self._resort()

    def _make_columns(
        self, mode: str, columns: tuple[str, ...], figures: Figures, chosen: bool
    ) -> None:
        """The table's two columns (the name, and every figure as one text), empty."""
        self.clear(columns=True)
        title, width = MODES[mode][0][1:]
        self.add_column(Text(title), width=cell_width(title, width), key="syscall")
        self._figures = figures
        if figures:
            room = sum(w for _k, _t, w in figures) + len(GAP) * (len(figures) - 1)
            self.add_column(Text(""), width=room, key=FIGURES)
        if not chosen or self.sort_key not in columns:
            self._chosen = False
            self.sort_key = next(k for k in SORTS[mode] if k in columns)
        self.mode, self.shown_columns = mode, columns
        self._cells = {}
        self._fresh = True
        self._mark_sorted()

    def _fill(self, rows: list[TableRow]) -> None:
        """The rows as they are now: changed cells updated, new rows added, gone ones removed."""
        keys = ("syscall", FIGURES) if self._figures else ("syscall",)
        for r in rows:
            cells: tuple[Text, ...] = (r.cells["syscall"],)
            if self._figures:
                figures = [(r.cells[k], w, k in LEFT_ALIGNED) for k, _t, w in self._figures]
                cells += (laid_out(figures),)
            old = self._cells.get(r.name)
            if old is None:
                self.add_row(*cells, key=r.name)
            else:
                for key, before, after in zip(keys, old, cells, strict=True):
                    if before != after:
                        self.update_cell(r.name, key, after)
            self._cells[r.name] = cells
        gone = self._cells.keys() - {r.name for r in rows}
        for name in gone:
            self.remove_row(name)
            del self._cells[name]

    def on_resize(self) -> None:
        if self._collector is not None:
            self.show(self._summary, collector=self._collector)

    def on_focus(self) -> None:
        self.show_cursor = True

    def on_blur(self) -> None:
        self.show_cursor = False

    def _title(self, key: str, title: str) -> Text:
        if key != self.sort_key:
            return Text(title)
        # By name: A to Z, up (as the tree's PID▲); every figure: the largest first.
        return Text(title + ("▲" if key == "syscall" else "▼"), style="reverse")

    def _mark_sorted(self) -> None:
        assert self.mode is not None
        self.columns[ColumnKey("syscall")].label = self._title("syscall", MODES[self.mode][0][1])
        if self._figures:
            titles = [(self._title(k, t), w, k in LEFT_ALIGNED) for k, t, w in self._figures]
            self.columns[ColumnKey(FIGURES)].label = laid_out(titles)
        # The table keeps what it drew until its data changes: the titles are not its data.
        self.notify_style_update()

    def figure_at(self, x: int) -> str | None:
        """The figure whose column holds cell ``x`` of the figures' text (None: a gap)."""
        at = 0
        for key, _title, width in self._figures:
            if at <= x < at + width:
                return key
            at += width + len(GAP)
        return None

    def _resort(self) -> None:
        key = self.sort_key
        want = sorted(self._sort, key=lambda n: (self._sort[n][key], n))
        have = [row.key.value for row in self.ordered_rows]
        if want == have:
            return
        # While the user is on a row, the cursor follows that syscall; otherwise it stays put.
        # The rows of a fresh fill come in any order: the cursor stays on the first line then.
        following = self.has_focus and not self._fresh and self.cursor_row < len(have)
        self._fresh = False
        followed = have[self.cursor_row] if following else None
        self.sort("syscall", key=lambda cell: (self._sort[cell.plain][key], cell.plain))
        if followed is not None and followed in self._sort:
            self.move_cursor(row=self.get_row_index(followed))

    def sort_by(self, key: str) -> None:
        if self.mode is not None and key in SORTS[self.mode] and key in self.shown_columns:
            self.sort_key, self._chosen = key, True
            self._mark_sorted()
            self._resort()
            # A new order is read from its top (a trial took the view on the row it followed,
            # from the middle of the new order, for a sort that had not worked).
            if self.row_count:
                self.move_cursor(row=0, animate=False)
            self.scroll_home(animate=False)

    def action_cycle_sort(self) -> None:
        if self.mode is not None:
            keys = [k for k in SORTS[self.mode] if k in self.shown_columns]
            self.sort_by(keys[(keys.index(self.sort_key) + 1) % len(keys)])

    def on_click(self, event: Click) -> None:
        # A title: the name's, or a figure's by where it is in the figures' text.
        meta = event.style.meta
        if meta.get("row") != -1 or "column" not in meta or meta.get("out_of_bounds"):
            return  # not a title (past the last column: none)
        if meta["column"] == 0:
            self.sort_by("syscall")
            return
        offset = event.get_content_offset(self)
        if offset is None:
            return
        name_width = self.ordered_columns[0].get_render_width(self)
        key = self.figure_at(offset.x + int(self.scroll_x) - name_width - PADDING)
        if key is not None:
            self.sort_by(key)
