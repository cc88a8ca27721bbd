"""``report RUN.jsonl``: one self-contained HTML file (plotly.js and every figure inline; nothing
is fetched when it is opened) with the run's pictures: the tree's CPU, memory, I/O, network and
syscall rate over time (and one process's, picked from a list), where the threads' time went,
a timeline of every process (the picture that explains a build), the syscall table as
``strace -c`` has it, the categories' shares, and every process with its totals.

Process names and command lines are the watched programs' text: HTML-escaped in tables, and
given to plotly as entities (its labels understand a few tags), never as markup.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from typing import Any

from denet_tui.model import ProcessSample, Snapshot
from denet_tui.recording import Recording
from denet_tui.reports.text import time_summary
from denet_tui.visible import visible

MAX_TIMELINE = 3000  # processes drawn in the timeline (the longest-lived kept)
MAX_PICKED = 20  # processes one can pick for the per-process plots (the busiest by CPU)
MAX_TABLE = 500  # rows of the process table (by CPU)
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#eeca3b", "#b279a2",
          "#ff9da6", "#9d755d", "#bab0ac")  # fmt: skip


def label(text: str) -> str:
    """Untrusted text as a plotly label: control characters visible, markup as entities."""
    return html.escape(visible(text), quote=False)


def _rates(snaps: Sequence[Snapshot], get: Any) -> tuple[list[float], list[float | None]]:
    """A cumulative tree figure's change per second between snapshots."""
    xs: list[float] = []
    ys: list[float | None] = []
    for a, b in zip(snaps, snaps[1:], strict=False):
        va, vb, dt = get(a), get(b), b.t - a.t
        xs.append(b.t)
        ys.append(None if va is None or vb is None or dt <= 0 else max(0.0, (vb - va) / dt))
    return xs, ys


def _total(key: str) -> Any:
    return lambda s: getattr(s.totals, key)


def _line(x: Sequence[float], y: Sequence[Any], name: str, **kw: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "x": list(x), "y": list(y), "name": name} | kw


def tree_figure(rec: Recording) -> dict[str, Any]:
    """The tree over time: five stacked panels sharing the time axis."""
    s = rec.snapshots
    t = [x.t for x in s]
    rss = [sum(p.rss_bytes or 0 for p in x.processes if p.alive) for x in s]
    panels = [
        ("CPU (cores)", [_line(*_rates(s, _total("cpu_time_s")), "CPU")]),
        ("RSS (live)", [_line(t, rss, "RSS")]),
        ("disk B/s", [_line(*_rates(s, _total("read_bytes")), "read"),
                                _line(*_rates(s, _total("write_bytes")), "written")]),
        ("net B/s", [_line(*_rates(s, _total("net_rx_bytes")), "received"),
                               _line(*_rates(s, _total("net_tx_bytes")), "sent")]),
        ("syscalls/s", [_line(*_rates(s, _total("syscalls")), "syscalls")]),
    ]  # fmt: skip
    data, layout = (
        [],
        _layout("CPU, memory, disk, network and syscalls of the whole tree", height=900),
    )
    n = len(panels)
    for i, (title, traces) in enumerate(panels):
        axis = "" if i == 0 else str(i + 1)
        for tr in traces:
            data.append({**tr, "xaxis": f"x{axis}", "yaxis": f"y{axis}"})
        top, bottom = 1 - i / n, 1 - (i + 1) / n + 0.05
        layout[f"yaxis{axis}"] = {"domain": [bottom, top], "title": {"text": title},
                                  "rangemode": "tozero"}  # fmt: skip
        layout[f"xaxis{axis}"] = {"anchor": f"y{axis}", "matches": "x" if i else None,
                                  "showticklabels": i == n - 1}  # fmt: skip
    layout[f"xaxis{n}"]["title"] = {"text": "seconds since the start"}
    return {"data": data, "layout": layout}


def time_states_figure(rec: Recording) -> dict[str, Any] | None:
    """Where the threads' time went (the sched family), per second of wall time."""
    s = rec.snapshots
    keys = (("on_cpu_s", "on a CPU"), ("waiting_cpu_s", "waiting for a CPU"),
            ("sleeping_s", "sleeping"), ("uninterruptible_s", "uninterruptible (D)"))  # fmt: skip
    if all(getattr(s[-1].totals, k) is None for k, _ in keys):
        return None
    data = [_line(*_rates(s, _total(k)), name, stackgroup="time") for k, name in keys]
    layout = _layout("Where the time went (threads; seconds per second)", height=380)
    layout["xaxis"] = {"title": {"text": "seconds since the start"}}
    return {"data": data, "layout": layout}


def _busiest(rec: Recording, n: int) -> list[ProcessSample]:
    return sorted(rec.processes.values(), key=lambda p: -(p.cpu_time_s or 0))[:n]


def picked_figure(rec: Recording) -> dict[str, Any]:
    """One process's CPU and RSS over time; a list picks which (the busiest by CPU)."""
    picked = _busiest(rec, MAX_PICKED)
    data: list[dict[str, Any]] = []
    buttons = []
    for i, p in enumerate(picked):
        key = (p.pid, p.start_ts)
        rows = [
            (s.t, q)
            for s in rec.snapshots
            for q in s.processes
            if (q.pid, q.start_ts) == key and q.alive  # (an ended one holds no memory now)
        ]
        t = [x for x, _ in rows]
        marks = {"mode": "lines+markers", "visible": i == 0}  # (a short process: a few points)
        data.append(_line(t, [q.cpu_percent for _, q in rows], "CPU %", **marks))
        data.append(_line(t, [q.rss_bytes for _, q in rows], "RSS", yaxis="y2", **marks))
        shown = [False] * (2 * len(picked))
        shown[2 * i] = shown[2 * i + 1] = True
        buttons.append(
            {
                "label": label(f"{p.pid} {p.name}"),
                "method": "update",
                "args": [
                    {"visible": shown},
                    {"title": {"text": label(f"{p.pid}: {' '.join(p.cmdline)}"[:100])}},
                ],
            }
        )
    layout = _layout(label(f"{picked[0].pid}: {' '.join(picked[0].cmdline)}"[:100]) if picked
                     else "no process", height=420)  # fmt: skip
    layout["yaxis"] = {"title": {"text": "CPU % (100 = a core)"}, "rangemode": "tozero"}
    layout["yaxis2"] = {"title": {"text": "RSS (bytes)"}, "overlaying": "y", "side": "right",
                        "rangemode": "tozero"}  # fmt: skip
    layout["xaxis"] = {"title": {"text": "seconds since the start"}}
    layout["updatemenus"] = [{"buttons": buttons, "x": 0, "y": 1.18, "xanchor": "left"}]
    return {"data": data, "layout": layout}


def timeline_figure(rec: Recording) -> dict[str, Any]:
    """Every process as a bar from its start to its end (a Gantt chart), by start time."""
    t0 = rec.meta.started_ts
    end = t0 + rec.wall_s
    procs = [p for p in rec.processes.values() if p.start_ts is not None]
    procs.sort(key=lambda p: -((p.end_ts or end) - (p.start_ts or 0)))
    procs = sorted(procs[:MAX_TIMELINE], key=lambda p: (p.start_ts or 0, p.pid))
    # One trace (a colour, a legend entry) per command, the most frequent first; the rest grey.
    counts: dict[str, int] = {}
    for p in procs:
        counts[p.name] = counts.get(p.name, 0) + 1
    named = sorted(counts, key=lambda n: -counts[n])[: len(COLORS)]
    rows = [
        (i, p, max(0.0, (p.start_ts or t0) - t0),
         max(0.001, (p.end_ts or end) - (p.start_ts or t0)))
        for i, p in enumerate(procs)
    ]  # fmt: skip
    data = []
    for name, color in [*zip(named, COLORS, strict=False), (None, "#bbbbbb")]:
        mine = [r for r in rows if (r[1].name == name if name else r[1].name not in named)]
        if not mine:
            continue
        data.append({
            "type": "bar", "orientation": "h", "name": label(name or "other commands"),
            "base": [b for _, _, b, _ in mine], "x": [d for _, _, _, d in mine],
            "y": [i for i, _, _, _ in mine], "marker": {"color": color},
            "hovertext": [label(f"{p.pid} {' '.join(p.cmdline) or p.name}"[:200])
                          + f"<br>{d:.3f} s, CPU {p.cpu_time_s or 0:.3f} s, exit {p.exit_code}"
                          for _, p, _, d in mine],
            "hoverinfo": "text",
        })  # fmt: skip
    layout = _layout(f"Processes over time ({len(rows):,} of {len(rec.processes):,})",
                     height=min(2400, 300 + 4 * len(rows)))  # fmt: skip
    layout["xaxis"] = {"title": {"text": "seconds since the start"}}
    layout["yaxis"] = {
        "autorange": "reversed",
        "showticklabels": False,
        "title": {"text": "process"},
    }
    layout["bargap"] = 0.1
    layout["barmode"] = "overlay"
    return {"data": data, "layout": layout}


def categories_figure(rec: Recording) -> dict[str, Any]:
    cats = sorted(rec.last.syscalls.by_category.items(), key=lambda kv: -(kv[1].count or 0))
    cats = [(n, c) for n, c in cats if c.count]
    data = [{"type": "bar", "x": [n for n, _ in cats], "y": [c.count for _, c in cats],
             "name": "calls", "offsetgroup": 1}]  # fmt: skip
    if any(c.time_ns is not None for _, c in cats):
        data.append({"type": "bar", "x": [n for n, _ in cats],
                     "y": [(c.time_ns or 0) / 1e9 for _, c in cats], "name": "time (s)",
                     "yaxis": "y2", "offsetgroup": 2})  # fmt: skip
    layout = _layout("Syscall categories", height=380)
    layout["yaxis"] = {"title": {"text": "calls"}}
    layout["yaxis2"] = {"title": {"text": "seconds"}, "overlaying": "y", "side": "right"}
    layout["barmode"] = "group"
    return {"data": data, "layout": layout}


def _layout(title: str, height: int) -> dict[str, Any]:
    return {"title": {"text": title}, "height": height, "margin": {"l": 80, "r": 110, "t": 60,
            "b": 50}, "template": None, "hovermode": "closest"}  # fmt: skip


def _table(head: Iterable[str], rows: Iterable[Iterable[Any]], right: set[int]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(
            f"<td{' class=r' if i in right else ''}>{html.escape(visible(str(v)))}</td>"
            for i, v in enumerate(r)
        ) + "</tr>"
        for r in rows
    )  # fmt: skip
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def syscall_table(rec: Recording) -> str:
    rows = sorted(rec.last.syscalls.by_name.items(),
                  key=lambda kv: (-(kv[1].time_ns or 0), -(kv[1].count or 0)))  # fmt: skip
    total = sum(s.time_ns or 0 for _, s in rows) or 1
    return _table(
        ("% time", "seconds", "usecs/call", "calls", "errors", "syscall", "category"),
        (
            (f"{(s.time_ns or 0) / total * 100:.2f}", f"{(s.time_ns or 0) / 1e9:.6f}",
             f"{(s.time_ns or 0) / 1e3 / s.count:.0f}" if s.count else "", s.count,
             s.errors or "", n, s.category)
            for n, s in rows if s.count
        ),
        {0, 1, 2, 3, 4},
    )  # fmt: skip


def process_table(rec: Recording) -> str:
    t0 = rec.meta.started_ts

    def when(ts: float | None) -> str:
        return "" if ts is None else f"{ts - t0:.3f}"

    def n(v: float | None, fmt: str = "{:,}") -> str:
        return "—" if v is None else fmt.format(v)

    procs = _busiest(rec, MAX_TABLE)
    return _table(
        ("pid", "ppid", "command", "start s", "end s", "CPU s", "peak RSS", "read", "written",
         "syscalls", "exit"),
        (
            (p.pid, p.ppid or "", " ".join(p.cmdline) or p.name, when(p.start_ts),
             when(p.end_ts), n(p.cpu_time_s, "{:.3f}"), n(p.peak_rss_bytes), n(p.read_bytes),
             n(p.write_bytes), n(p.syscalls.count if p.syscalls else None),
             "" if p.exit_code is None else p.exit_code)
            for p in procs
        ),
        {0, 1, 3, 4, 5, 6, 7, 8, 9, 10},
    )  # fmt: skip


def _plot(div: str, fig: dict[str, Any]) -> str:
    data = json.dumps(fig["data"]).replace("<", "\\u003c")
    layout = json.dumps(fig["layout"]).replace("<", "\\u003c")
    config = '{"displaylogo": false, "responsive": true}'
    return (
        f'<div id="{div}" class="plot"></div>\n'
        f"<script>Plotly.newPlot({json.dumps(div)}, {data}, {layout}, {config});</script>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
pre { background: #f6f6f6; padding: .8em; white-space: pre-wrap; }
table { border-collapse: collapse; font-size: .85em; } td, th { padding: .2em .6em; }
th { text-align: left; border-bottom: 1px solid #888; } td.r { text-align: right; }
tbody tr:nth-child(even) { background: #f4f4f4; }
.scroll { max-height: 32em; overflow: auto; }
"""


def html_report(rec: Recording, source: str | None = None) -> str:
    """The report; ``source``: the recording it was made from, as the page names it."""
    from plotly.offline import get_plotlyjs

    meta, t = rec.meta, rec.last.totals
    title = f"denet-tui: {rec.command}"
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(visible(title))}</title><style>{STYLE}</style>",
        f"<script>{get_plotlyjs()}</script></head><body>",
        f"<h1>{html.escape(visible(title))}</h1>",
        f"<p>{html.escape(meta.host)} · kernel {html.escape(meta.kernel)} · collector "
        f"{html.escape(meta.collector.name)} ({html.escape(meta.collector.syscalls)} syscalls) · "
        f"{rec.wall_s:.2f} s · {t.processes_seen:,} processes · exit "
        f"{html.escape(str(rec.exit_code))}"
        + (f" · cut short at line {rec.truncated_at}" if rec.truncated_at else "")
        + "</p>",
        f"<pre>{html.escape(time_summary(rec))}</pre>",
        "<h2>The tree over time</h2>",
        _plot("tree", tree_figure(rec)),
    ]
    states = time_states_figure(rec)
    if states is not None:
        parts += ["<h2>Where the time went</h2>", _plot("states", states)]
    parts += [
        "<h2>One process</h2>",
        _plot("picked", picked_figure(rec)),
        "<h2>Processes over time</h2>",
        _plot("timeline", timeline_figure(rec)),
        "<h2>Syscalls (as strace -c)</h2>",
        _plot("categories", categories_figure(rec)),
        f"<div class=scroll>{syscall_table(rec)}</div>",
        f"<h2>Processes (the {MAX_TABLE} busiest by CPU)</h2>",
        f"<div class=scroll>{process_table(rec)}</div>",
        f"<p>Made by denet-tui {html.escape(meta.tool_version)}"
        + (f" from {html.escape(visible(source))}" if source else "")
        + ".</p></body></html>",
    ]
    return "\n".join(parts) + "\n"
