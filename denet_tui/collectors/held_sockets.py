"""The /proc collector's connections: the TCP and UDP sockets the tree's processes hold, as each
reading finds them (the network family, sampled): each process's ``/proc/PID/fd`` socket inodes
joined with its network namespace's ``/proc/PID/net/{tcp,tcp6,udp,udp6}``.

What /proc can honestly give: endpoints and the state at each reading; a connection opened and
closed between two readings is never seen, how it began is not known (a listener excepted),
and there are no per-socket byte counts (null). A socket is dated from the reading that first
found it to the first reading that no longer did. A UDP socket is one row (its own peer if it
is connected; the endpoints it exchanges datagrams with are not in /proc).
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterable

from denet_tui.collectors.held_files import fd_targets
from denet_tui.evolve import evolve
from denet_tui.model import Connection, ProcessSample

MAX_SOCKETS = 10_000  # sockets followed at once; others counted as left out
TCP_STATES = {
    1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
    6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}  # fmt: skip
LISTEN = 10
UDP_STATES = {1: "connected", 7: "unconnected"}
TABLES = (("tcp", False), ("tcp6", True), ("udp", False), ("udp6", True))


def socket_inodes(pid: int) -> set[int]:
    """The inodes of ``pid``'s socket descriptors; empty if they cannot be read."""
    return {int(t[8:-1]) for t in fd_targets(pid).values() if t.startswith("socket:[")}


def endpoint(hex_addr: str, v6: bool) -> str:
    """``0100007F:1F90`` -> ``127.0.0.1:8080`` (each 32-bit word in the host's byte order)."""
    addr, port = hex_addr.split(":")
    raw = b"".join(int(addr[i : i + 8], 16).to_bytes(4, "little") for i in range(0, len(addr), 8))
    if v6:
        return f"[{ipaddress.IPv6Address(raw)}]:{int(port, 16)}"
    return f"{ipaddress.IPv4Address(raw)}:{int(port, 16)}"


Row = tuple[str, str, int, bool, str]  # local, remote, state, IPv6, protocol


def socket_table(pid: int) -> dict[int, Row]:
    """Inode -> (local, remote, state, IPv6, protocol) of every TCP and UDP socket in ``pid``'s
    network namespace."""
    out: dict[int, Row] = {}
    for name, v6 in TABLES:
        try:
            with open(f"/proc/{pid}/net/{name}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[9] != "0":
                out[int(cols[9])] = (
                    endpoint(cols[1], v6),
                    endpoint(cols[2], v6),
                    int(cols[3], 16),
                    v6,
                    name.rstrip("6"),
                )
    return out


class HeldSockets:
    def __init__(self) -> None:
        self._open: dict[int, Connection] = {}  # inode -> as last reported
        self.left_out = 0

    def update(self, live: Iterable[ProcessSample]) -> tuple[Connection, ...]:
        """The sockets that appeared, changed state or went since the last reading."""
        now = round(time.time(), 6)
        held: dict[int, int] = {}  # inode -> a pid holding it (the first seen)
        tables: dict[str, dict[int, Row]] = {}  # by network namespace
        rows: dict[int, Row] = {}
        for p in live:
            inodes = socket_inodes(p.pid)
            if not inodes:
                continue
            try:
                ns = os.readlink(f"/proc/{p.pid}/ns/net")
            except OSError:
                continue
            if ns not in tables:
                tables[ns] = socket_table(p.pid)
            for inode in inodes:
                if inode in tables[ns]:
                    held.setdefault(inode, p.pid)
                    rows[inode] = tables[ns][inode]
        out = []
        for inode, (local, remote, state, v6, proto) in rows.items():
            before = self._open.get(inode)
            udp = proto == "udp"
            name = (UDP_STATES if udp else TCP_STATES).get(state, f"state {state}")
            if before is not None and before.state == name:
                continue
            if before is None and len(self._open) >= MAX_SOCKETS:
                self.left_out += 1
                continue
            listening = state == LISTEN and not udp
            unconnected = udp and state != 1
            conn = Connection(
                pid=held[inode] if before is None else before.pid,
                family="ipv6" if v6 else "ipv4",
                direction="listen" if listening else "unknown",
                state=name,
                local=local,
                remote=None if listening or unconnected else remote,
                rx_bytes=None,
                tx_bytes=None,
                start_ts=now if before is None else before.start_ts,
                end_ts=None,
                protocol=proto,  # type: ignore[arg-type]
            )
            self._open[inode] = conn
            out.append(conn)
        for inode in [i for i in self._open if i not in rows]:
            gone = self._open.pop(inode)
            out.append(evolve(gone, end_ts=now, state="gone"))
        return tuple(out)
