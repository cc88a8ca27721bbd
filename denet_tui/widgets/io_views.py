"""The Network and Disk tabs (the network and disk families).

Network: the tree's TCP connections and UDP endpoint pairs (endpoints, direction, state, bytes
each way, how long), busiest first; below, each process that used a socket, alive or ended,
busiest first: bytes per second received and sent, totals, and the bytes by kind of socket; the
title holds the tree's totals.
Disk: each device's block requests, the tree's own and the kernel's writeback (not
attributable), with requests and bytes per second, latency (mean, p50, p99 from the log2
histogram); below, each process's requests. Names are shown as harmless text.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from denet_tui.event_filter import EVERYTHING, EventFilter
from denet_tui.event_logs import BusyProcesses, LatestRows
from denet_tui.model import Connection, DiskDevice, ProcessSample, Snapshot, TreeTotals
from denet_tui.rates import DeviceRates, Rates, percentile_ns
from denet_tui.visible import visible
from denet_tui.widgets.format import NA, fmt_bytes, fmt_int, fmt_ns, fmt_seconds
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.row_table import RowTable

KINDS = ("unix", "tcp", "udp", "other")
MAX_SHOWN = 2000  # rows drawn (the export and the JSON have every process)
NET_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("PID", 8), ("PROCESS", 12), ("RX/s", 9), ("TX/s", 9), ("RECEIVED", 9), ("SENT", 9),
    ("UNIX", 8), ("TCP", 8), ("UDP", 8), ("OTHER", 8), ("CALLS R/T", None),
)  # fmt: skip
CONN_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("PID", 8), ("PROTO", 5), ("DIR", 8), ("STATE", 12), ("LOCAL", 22), ("REMOTE", 22),
    ("RECEIVED", 9), ("SENT", 9), ("FOR", None),
)  # fmt: skip
DEV_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("DEVICE", 10), ("SOURCE", 10), ("KIND", 6), ("REQS", 8), ("REQS/s", 8), ("BYTES", 10),
    ("BYTES/s", 10), ("MEAN", 9), ("P50", 9), ("P99", None),
)  # fmt: skip
PROC_COLUMNS: tuple[tuple[str, int | None], ...] = (
    ("PID", 8), ("PROCESS", 16), ("READ/s", 10), ("WRITE/s", 10), ("READ", 10), ("WRITTEN", 10),
    ("READS", 8), ("WRITES", None),
)  # fmt: skip


def _rate(r: Rates | None, key: str) -> str:
    v = None if r is None else r[key]
    return NA if v is None else fmt_bytes(v) + "/s"


def net_cells(p: ProcessSample, r: Rates | None) -> list[Text]:
    n = p.net
    assert n is not None
    by_kind = [fmt_bytes(getattr(n, f"{k}_rx_bytes") + getattr(n, f"{k}_tx_bytes")) for k in KINDS]
    return [
        Text(str(p.pid), justify="right"),
        Text(visible(p.name), no_wrap=True, overflow="ellipsis", style="" if p.alive else "dim"),
        Text(_rate(r, "net_rx_bytes"), justify="right"),
        Text(_rate(r, "net_tx_bytes"), justify="right"),
        Text(fmt_bytes(n.rx_bytes), justify="right"),
        Text(fmt_bytes(n.tx_bytes), justify="right"),
        *(Text(b, justify="right") for b in by_kind),
        Text(f"{fmt_int(n.rx_calls)} / {fmt_int(n.tx_calls)}"),
    ]


def conn_cells(c: Connection, now: float) -> list[Text]:
    """A UDP pair's time is from its first datagram to its latest (it has no close)."""
    udp = c.protocol == "udp"
    closed = c.end_ts is not None and not udp
    lasted = (c.end_ts if c.end_ts is not None else now) - c.start_ts
    return [
        Text(str(c.pid), justify="right"),
        Text(c.protocol.upper()),
        Text(c.direction),
        Text(c.state, style="dim" if closed else ""),
        Text(c.local or NA),
        Text(c.remote or ("" if c.direction == "listen" else "not seen" if udp else NA)),
        Text(fmt_bytes(c.rx_bytes), justify="right"),
        Text(fmt_bytes(c.tx_bytes), justify="right"),
        Text(
            fmt_seconds(max(0.0, lasted)) + ("" if closed or udp else " …"),
            style="dim" if closed else "",
        ),
    ]


def net_title(t: TreeTotals) -> str:
    """The tree's totals, every process ever seen."""
    if t.net_rx_bytes is None:  # no per-process counter (the /proc collector)
        return "network · no per-process byte counts here"
    both = {k: sum(getattr(t, f"net_{k}_{w}_bytes") or 0 for w in ("rx", "tx")) for k in KINDS}
    kinds = ", ".join(f"{k} {fmt_bytes(n)}" for k, n in both.items())
    return (
        f"network, whole run: received {fmt_bytes(t.net_rx_bytes)}, sent "
        f"{fmt_bytes(t.net_tx_bytes)} · both ways: {kinds} · by process, busiest first"
    )


def device_cells(d: DiskDevice, per_s: tuple[float, float] | None) -> list[Text]:
    mean = d.latency_ns / d.done if d.done else None
    return [
        Text(visible(d.device)),
        Text(d.source, style="" if d.source == "tree" else "yellow"),
        Text(d.kind),
        Text(fmt_int(d.ops), justify="right"),
        Text(NA if per_s is None else f"{per_s[0]:.1f}", justify="right"),
        Text(fmt_bytes(d.bytes), justify="right"),
        Text(NA if per_s is None else fmt_bytes(per_s[1]) + "/s", justify="right"),
        Text(fmt_ns(mean), justify="right"),
        Text(fmt_ns(percentile_ns(d.hist, 0.5, d.latency_ns)), justify="right"),
        Text(fmt_ns(percentile_ns(d.hist, 0.99, d.latency_ns)), justify="right"),
    ]


def disk_proc_cells(p: ProcessSample, r: Rates | None) -> list[Text]:
    d = p.disk
    assert d is not None
    return [
        Text(str(p.pid), justify="right"),
        Text(visible(p.name), no_wrap=True, overflow="ellipsis", style="" if p.alive else "dim"),
        Text(_rate(r, "blk_read_bytes"), justify="right"),
        Text(_rate(r, "blk_write_bytes"), justify="right"),
        Text(fmt_bytes(d.read_bytes), justify="right"),
        Text(fmt_bytes(d.write_bytes), justify="right"),
        Text(fmt_int(d.read_ops), justify="right"),
        Text(fmt_int(d.write_ops), justify="right"),
    ]


def narrowed(flt: EventFilter) -> str:
    return f" · {flt.describe()}" if flt.active else ""


class _Table(RowTable):
    def __init__(self, columns: tuple[tuple[str, int | None], ...], *, id: str) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        for title, width in columns:
            self.add_column(title, width=width)


class NetworkView(Vertical):
    def compose(self) -> ComposeResult:
        yield _Table(CONN_COLUMNS, id="network-conns")
        yield _Table(NET_COLUMNS, id="network-table")

    def show(
        self,
        conns: LatestRows,
        busy: BusyProcesses,
        snap: Snapshot,
        rates: Mapping[int, Rates],
        flt: EventFilter = EVERYTHING,
        sampled: bool = False,
    ) -> None:
        """``sampled``: the /proc collector's connections (no per-process traffic). The filter
        and scope keep a connection whose process (or own text) they keep."""
        table = self.query_one("#network-conns", _Table)
        procs = flt.select(busy.rows.values())
        kept = {p.pid for p in procs}
        rows = sorted(
            (c for c in conns.rows.values() if not flt.active or c.pid in kept or flt.matches(c)),
            key=lambda c: (-((c.rx_bytes or 0) + (c.tx_bytes or 0)), c.start_ts),
        )
        table.clear()
        for c in rows[:MAX_SHOWN]:
            table.add_row(*conn_cells(c, snap.ts))
        udp = sum(1 for c in rows if c.protocol == "udp")
        live = sum(1 for c in rows if c.end_ts is None and c.protocol == "tcp")
        title = (
            f"TCP connections {len(rows) - udp:,}, {live:,} open (FOR …) · UDP endpoint pairs "
            f"{udp:,} (FOR: first to latest datagram) · busiest first"
        )
        if sampled:
            title = (
                f"sockets held · TCP {len(rows) - udp:,}, {live:,} open · UDP {udp:,} · "
                "sampled from /proc/PID/fd and /proc/net: no byte counts, short ones missed"
            )
        if conns.dropped:
            title += f" · {conns.dropped:,} older ones let go"
        set_border_title(table, Text(title + narrowed(flt)))
        table = self.query_one("#network-table", _Table)
        procs = [p for p in procs if p.net and (p.net.rx_bytes or p.net.tx_bytes)]
        procs.sort(key=lambda p: (-(p.net.rx_bytes + p.net.tx_bytes), p.pid))  # type: ignore[union-attr]
        table.clear()
        for p in procs[:MAX_SHOWN]:
            table.add_row(*net_cells(p, rates.get(p.pid) if p.alive else None))
        set_border_title(table, Text(net_title(snap.totals) + narrowed(flt)))


class DiskView(Vertical):
    def compose(self) -> ComposeResult:
        yield _Table(DEV_COLUMNS, id="disk-devices")
        yield _Table(PROC_COLUMNS, id="disk-procs")

    def show(
        self,
        disks: LatestRows,
        rates: DeviceRates,
        busy: BusyProcesses,
        snap: Snapshot,
        process_rates: Mapping[int, Rates],
        flt: EventFilter = EVERYTHING,
    ) -> None:
        devices = self.query_one("#disk-devices", _Table)
        devices.clear()
        for key, d in sorted(disks.rows.items()):
            devices.add_row(*device_cells(d, rates.per_s.get(key)))
        t = snap.totals
        set_border_title(
            devices,
            Text(
                f"block devices · the tree's requests: read {fmt_bytes(t.blk_read_bytes)}, "
                f"written {fmt_bytes(t.blk_write_bytes)} · other: discard, flush · writeback: "
                "the kernel's, anyone's pages, not attributable"
            ),
        )
        table = self.query_one("#disk-procs", _Table)
        procs = [
            p
            for p in flt.select(busy.rows.values())
            if p.disk and (p.disk.read_bytes or p.disk.write_bytes)
        ]
        procs.sort(key=lambda p: (-(p.disk.read_bytes + p.disk.write_bytes), p.pid))  # type: ignore[union-attr]
        table.clear()
        for p in procs[:MAX_SHOWN]:
            table.add_row(*disk_proc_cells(p, process_rates.get(p.pid) if p.alive else None))
        title = f"{len(procs):,} processes · block requests started in their context"
        set_border_title(table, Text(title + narrowed(flt)))
