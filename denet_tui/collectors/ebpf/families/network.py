"""Family "network": each process's socket traffic, by direction and kind of socket
(``bpf/network``).

The kernel adds every send and receive of a process of the tree to its entry (bytes and calls,
received and sent, for unix, TCP, UDP and other sockets) in the caller's own context, so a
process that lives a millisecond is counted whole. Each sample reads the entries of the
processes that have one; an entry goes when the process is forgotten.
"""

from __future__ import annotations

import ctypes as ct
import ipaddress
import struct
import time
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.families.base import ProcessEntries
from denet_tui.collectors.ebpf.layout import NET_CLASSES
from denet_tui.model import Connection, ProcessNet

N = len(NET_CLASSES)
VAL_FMT = "Q" * (4 * N)  # struct net_val: bytes[rx, tx][class], calls[rx, tx][class]
MAX_CONNS = 16384  # TCP sockets of the tree followed in the kernel at once
MAX_CONN_ROWS = 200  # per snapshot: the busiest changed ones (the rest counted)
# struct conn: start, end, rx, tx, serial, tgid, state, sport, dport, family, dir, pad, pad2,
# saddr, daddr
CONN_FMT = "=QQQQIIIHHHBBI16s16s"
CONN_SIZE = struct.calcsize(CONN_FMT)
TCP_STATES = {
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
    6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
    12: "NEW_SYN_RECV",
}  # fmt: skip
DIRECTIONS = ("unknown", "connect", "accept", "listen")  # CONN_* by value
LISTEN = DIRECTIONS.index("listen")
AF_INET, AF_INET6 = 2, 10


def endpoint(family: int, addr: bytes, port: int) -> str | None:
    """``1.2.3.4:80`` or ``[::1]:80``; None if the addresses were never seen."""
    if family == AF_INET:
        return f"{ipaddress.IPv4Address(addr[:4])}:{port}"
    if family == AF_INET6:
        return f"[{ipaddress.IPv6Address(addr)}]:{port}"
    return None


def net_section(v: tuple[int, ...]) -> ProcessNet:
    """A process's figures from its entry (``VAL_FMT``)."""
    rx, tx = v[0:N], v[N : 2 * N]
    per_class = {
        f"{kind}_{way}_bytes": part[i]
        for i, kind in enumerate(NET_CLASSES)
        for way, part in (("rx", rx), ("tx", tx))
    }
    return ProcessNet(
        rx_bytes=sum(rx),
        tx_bytes=sum(tx),
        rx_calls=sum(v[2 * N : 3 * N]),
        tx_calls=sum(v[3 * N : 4 * N]),
        **per_class,
    )


class NetworkFamily(ProcessEntries):
    name = "network"
    source = "network"
    map_name = b"net_procs"
    value_fmt = VAL_FMT
    section = "net"

    def __init__(self) -> None:
        super().__init__()
        self._conn_rows: dict[int, tuple[Any, ...]] = {}  # socket address -> as last reported
        self._new_conns: list[Connection] = []
        self._closed: list[tuple[Any, ...]] = []  # closed sockets from the ring buffer
        self.conns_left_out = 0
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {"MAX_CONNS": MAX_CONNS}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        super().bind(bpf, state)
        self._conns = bpf[b"conns"]
        self._bpf = bpf
        bpf[b"conn_closed"].open_ring_buffer(self._on_closed)

    def _on_closed(self, _ctx: Any, data: Any, size: int) -> None:
        if size >= CONN_SIZE:
            self._closed.append(struct.unpack(CONN_FMT, ct.string_at(data, CONN_SIZE)))

    def make_section(self, row: tuple[int, ...]) -> ProcessNet:
        return net_section(row)

    def begin_live(self, active: set[int]) -> None:
        super().begin_live(active)
        self._read_conns()

    def _read_conns(self) -> None:
        """The tree's TCP sockets that changed. A closed one is taken out once it was seen
        unchanged (data still queued is read after the close); one whose address a new socket
        took first came through the ring buffer."""
        self._bpf.ring_buffer_consume()  # (the event families do it too: either way, once)
        changed, self._closed = self._closed, []
        seen: dict[int, tuple[Any, ...]] = {}
        quiet: list[tuple[int]] = []
        for (sk,), v in bpf_maps.dump_raw(self._conns, "Q", CONN_FMT):
            if self._conn_rows.get(sk) == v:
                if v[1]:
                    quiet.append((sk,))  # closed, and nothing since: reported already
                    continue
            else:
                changed.append(v)
            seen[sk] = v
        bpf_maps.delete_many(self._conns, quiet, "Q")
        self._conn_rows = seen
        changed.sort(key=lambda v: -(v[2] + v[3]))
        self.conns_left_out += max(0, len(changed) - MAX_CONN_ROWS)
        self._new_conns = [self._connection(v) for v in changed[:MAX_CONN_ROWS]]

    def _connection(self, v: tuple[Any, ...]) -> Connection:
        start, end, rx, tx, _serial, tgid, state, sport, dport, family, way = v[:11]
        saddr, daddr = v[13], v[14]
        return Connection(
            pid=tgid,
            family={AF_INET: "ipv4", AF_INET6: "ipv6"}.get(family),  # type: ignore[arg-type]
            direction=DIRECTIONS[way] if way < len(DIRECTIONS) else "unknown",  # type: ignore[arg-type]
            state=TCP_STATES.get(state, f"state {state}") if family else "?",
            local=endpoint(family, saddr, sport),
            remote=None if way == LISTEN else endpoint(family, daddr, dport),
            rx_bytes=rx,
            tx_bytes=tx,
            start_ts=round(start / 1e9 + self._clock, 6),
            end_ts=round(end / 1e9 + self._clock, 6) if end else None,
        )

    def snapshot_fields(self) -> dict[str, Any]:
        rows, self._new_conns = self._new_conns, []
        return {"connections": tuple(rows)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "net_procs": len(self._rows),
            "net_full": kernel["net_full"],
            "conns_lost": kernel["conns_lost"],
            "connections_open": sum(1 for v in self._conn_rows.values() if not v[1]),
            "connections_left_out": self.conns_left_out,
        }
