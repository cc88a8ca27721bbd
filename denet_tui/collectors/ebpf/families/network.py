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
import socket
import struct
import time
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.btf import kernel_offsets
from denet_tui.collectors.ebpf.families.base import ProcessEntries, SharedProgram
from denet_tui.collectors.ebpf.layout import NET_CLASSES
from denet_tui.model import Connection, ProcessNet

N = len(NET_CLASSES)
VAL_FMT = "Q" * (4 * N)  # struct net_val: bytes[rx, tx][class], calls[rx, tx][class]
MAX_CONNS = 16384  # TCP sockets of the tree followed in the kernel at once
MAX_UDP_PAIRS = 16384  # UDP endpoint pairs of the tree kept in the kernel (until forgotten)
RECVMMSG_SEEN = 16  # a recvmmsg's messages whose sender is read (the rest: "not seen")
MAX_CONN_ROWS = 200  # per snapshot: the busiest changed TCP sockets and UDP pairs (rest counted)
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
FAMILIES = {AF_INET: "ipv4", AF_INET6: "ipv6"}
# struct udp_key: sk, serial, family, rport, raddr; struct udp_val: first, last, rx, tx, tgid,
# lport, lfamily, sent_first, connected, pad, pad2, laddr
UDP_KEY_FMT = "=QIHH16s"
UDP_VAL_FMT = "=QQQQIHHBBHI16s"


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
    shared = (
        SharedProgram(
            "sys_enter_net",
            "enter",
            ("sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg"),
        ),
        SharedProgram("sys_exit_send", "exit", ("sendto", "sendmsg", "sendmmsg")),
        SharedProgram("sys_exit_recv", "exit", ("recvfrom", "recvmsg", "recvmmsg")),
    )
    value_fmt = VAL_FMT
    section = "net"

    def __init__(self) -> None:
        super().__init__()
        self._conn_rows: dict[int, tuple[Any, ...]] = {}  # socket address -> as last reported
        self._udp_rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # pair -> as last reported
        self._new_conns: list[Connection] = []
        self._closed: list[tuple[Any, ...]] = []  # closed sockets from the ring buffer
        self.conns_left_out = 0
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {
            "MAX_CONNS": MAX_CONNS,
            "MAX_UDP_PAIRS": MAX_UDP_PAIRS,
            "RECVMMSG_SEEN": RECVMMSG_SEEN,
            **kernel_offsets(
                {
                    "SKC_NET": "sock_common.skc_net",
                    "SKC_DADDR": "sock_common.skc_daddr",
                    "SKC_RCV_SADDR": "sock_common.skc_rcv_saddr",
                    "SKC_DPORT": "sock_common.skc_dport",
                    "SKC_NUM": "sock_common.skc_num",
                    "SKC_V6_DADDR": "sock_common.skc_v6_daddr",
                    "SKC_V6_RCV_SADDR": "sock_common.skc_v6_rcv_saddr",
                    "MMSGHDR_SIZE": "sizeof mmsghdr",
                    "MMSG_LEN": "mmsghdr.msg_len",
                }
            ),
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        super().bind(bpf, state)
        self._conns = bpf[b"conns"]
        self._udp = bpf[b"udp_pairs"]
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
        rows = [(v[2] + v[3], self._connection(v)) for v in changed]
        for k, v in bpf_maps.dump_raw(self._udp, UDP_KEY_FMT, UDP_VAL_FMT):
            if self._udp_rows.get(k) != v:
                self._udp_rows[k] = v
                rows.append((v[2] + v[3], self._udp_pair(k, v)))
        rows.sort(key=lambda r: -r[0])
        self.conns_left_out += max(0, len(rows) - MAX_CONN_ROWS)
        self._new_conns = [c for _, c in rows[:MAX_CONN_ROWS]]

    def forget(self, serials: list[int]) -> None:
        super().forget(serials)
        gone = set(serials)
        keys = [k for k in self._udp_rows if k[1] in gone]
        for k in keys:
            del self._udp_rows[k]
        bpf_maps.delete_many(self._udp, keys, UDP_KEY_FMT)

    def _udp_pair(self, k: tuple[Any, ...], v: tuple[Any, ...]) -> Connection:
        _sk, _serial, family, rport, raddr = k
        first, last, rx, tx, tgid, lport, lfamily, sent_first, connected = v[:9]
        return Connection(
            pid=tgid,
            family=FAMILIES.get(lfamily),  # type: ignore[arg-type]
            direction="connect" if sent_first else "accept",
            state="connected" if connected else "unconnected",
            local=endpoint(lfamily, v[11], lport),
            remote=endpoint(family, raddr, socket.ntohs(rport)),
            rx_bytes=rx,
            tx_bytes=tx,
            start_ts=round(first / 1e9 + self._clock, 6),
            end_ts=round(last / 1e9 + self._clock, 6),
            protocol="udp",
        )

    def _connection(self, v: tuple[Any, ...]) -> Connection:
        start, end, rx, tx, _serial, tgid, state, sport, dport, family, way = v[:11]
        saddr, daddr = v[13], v[14]
        return Connection(
            pid=tgid,
            family=FAMILIES.get(family),  # type: ignore[arg-type]
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
            "udp_pairs": len(self._udp_rows),
        }
