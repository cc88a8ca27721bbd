"""Sparklines of the scope: CPU %, RSS, read and write bytes/s, syscalls/s — each from 0 up.

Textual's ``Sparkline`` scales between the data's own min and max, which makes a flat line look
like a cliff; these scale from 0 to the peak in view (CPU: at least one core), and an unknown
sample is a gap, not a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from denet_tui.figures import figure
from denet_tui.model import CollectorInfo
from denet_tui.rates import RW_CALLS, Extremes, Rates
from denet_tui.widgets.format import NA, fmt_bytes, fmt_count

_BLOCKS = " ▁▂▃▄▅▆▇█"
LABEL_W = 11
VALUE_W = 12  # the current value
MIN_CHART_W = 16  # below this, "min" is left out to give the chart room


def spark_rows(values: Sequence[float | None], width: int, height: int, peak: float) -> list[str]:
    """``height`` rows (top first) of a bar chart of the last ``width`` values, newest right."""
    shown = list(values)[-width:] if width > 0 else []
    pad = width - len(shown)
    rows = []
    for level in range(height - 1, -1, -1):
        cells = [" "] * pad
        for v in shown:
            if v is None or peak <= 0:
                cells.append(" ")
                continue
            eighths = round(max(0.0, min(1.0, v / peak)) * height * 8)
            fill = eighths - level * 8
            cells.append(_BLOCKS[max(0, min(8, fill))])
        rows.append("".join(cells))
    return rows


@dataclass(frozen=True, slots=True)
class Metric:
    label: str
    key: str  # the figure's key in Rates (denet_tui.rates)
    fmt: Callable[[float | None], str]
    style: str
    floor: float = 0.0  # the scale reaches at least this (CPU: one core)


def _bps(v: float | None) -> str:
    return NA if v is None else f"{fmt_bytes(v)}/s"


def _cpu(v: float | None) -> str:
    return NA if v is None else f"{v:.1f} %"


def _per_s(v: float | None) -> str:
    return NA if v is None else f"{fmt_count(v)}/s"


def metrics(exact: bool, rows: int = 5, network: bool = False) -> list[Metric]:
    """The figures shown: the five main ones, then the network's (with its family) and
    logical I/O when ``rows`` allow."""
    calls = (
        Metric(figure("syscalls").label, "syscalls", _per_s, "#d787d7")
        if exact
        # /proc counts read- and write-family calls exactly (syscr/syscw), not every syscall.
        else Metric(figure("read_syscalls").label, RW_CALLS, _per_s, "#d787d7")
    )
    main = [
        Metric(figure("cpu_percent").label, "cpu_percent", _cpu, "#87d787", floor=100.0),
        Metric(figure("rss_bytes").label, "rss_bytes", fmt_bytes, "#d7af5f"),
        # Storage-layer bytes: what reached (or came from) the disk, not the page cache.
        Metric(figure("read_bytes").label, "read_bytes", _bps, "#5fafff"),
        Metric(figure("write_bytes").label, "write_bytes", _bps, "#ff875f"),
        calls,
    ]
    logical = [
        # Bytes through read()/write(): cache, pipes, sockets and terminals included.
        Metric(figure("read_chars").label, "read_chars", _bps, "#87afd7"),
        Metric(figure("write_chars").label, "write_chars", _bps, "#d7875f"),
    ]
    sockets = [  # every socket's bytes (the network family; /proc has no such counter)
        Metric(figure("net_rx_bytes").label, "net_rx_bytes", _bps, "#5fd7af"),
        Metric(figure("net_tx_bytes").label, "net_tx_bytes", _bps, "#d7d75f"),
    ]
    shown = main
    # More groups only where they cost the main figures no height.
    for group in (sockets if network else [], logical):
        if group and rows // len(shown + group) >= max(1, rows // len(main)):
            shown = shown + group
    return shown


def sparklines_text(
    series: Sequence[Rates],
    *,
    exact: bool,
    width: int,
    height: int,
    extremes: Extremes | None = None,
    network: bool = False,
) -> Text:
    """Each metric gets ``height // count`` rows (at least one). Min and max are over
    ``extremes`` (the whole session), else over ``series``; never over what fits the width."""
    ms = metrics(exact, height, network)
    extremes = extremes or Extremes(series)
    rows_each = max(1, height // len(ms))
    ranges = [(extremes.low.get(m.key), extremes.high.get(m.key)) for m in ms]
    # "min … max …" where the chart keeps room; else the max alone.
    full = [f"  min {m.fmt(lo)}  max {m.fmt(hi)}" for m, (lo, hi) in zip(ms, ranges, strict=True)]
    range_w = max(len(t) for t in full) + 1
    if width - LABEL_W - VALUE_W - range_w < MIN_CHART_W:
        full = [f"  max {m.fmt(hi)}" for m, (_lo, hi) in zip(ms, ranges, strict=True)]
        range_w = max(len(t) for t in full) + 1
    chart_w = max(4, width - LABEL_W - VALUE_W - range_w)
    out = Text(no_wrap=True, overflow="crop", end="")
    for i, m in enumerate(ms):
        values = [r[m.key] for r in series][-chart_w:]
        known = [v for v in values if v is not None]
        scale = max([m.floor, *known])
        current = values[-1] if values else None
        for j, row in enumerate(spark_rows(values, chart_w, rows_each, scale)):
            if i or j:
                out.append("\n")
            out.append((m.label if j == 0 else "").ljust(LABEL_W), style="bold" if j == 0 else "")
            out.append(row, style=m.style)
            if j == 0:
                out.append(m.fmt(current).rjust(VALUE_W), style="bold")
                out.append(full[i].ljust(range_w), style="dim")
    return out


class ResourceSparklines(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._series: Sequence[Rates] = ()
        self._extremes: Extremes | None = None
        self._exact = self._network = False
        self._drawn: tuple[Size, Text] | None = None

    def show(
        self,
        series: Sequence[Rates],
        *,
        collector: CollectorInfo,
        extremes: Extremes | None = None,
    ) -> None:
        exact = collector.has("syscalls", "exact")
        self._series, self._exact, self._extremes = tuple(series), exact, extremes
        self._network = collector.has("network", "exact")
        before = self._drawn
        # A flat line shifted left is the same picture: no repaint (see widgets.redraw).
        if before is None or self._text(before[0]) != before[1]:
            self.refresh()

    def _text(self, size: Size) -> Text:
        text = sparklines_text(
            self._series,
            exact=self._exact,
            width=size.width,
            height=size.height,
            extremes=self._extremes,
            network=self._network,
        )
        self._drawn = (size, text)
        return text

    def render(self) -> Text:
        drawn = self._drawn
        return drawn[1] if drawn is not None and drawn[0] == self.size else self._text(self.size)
