"""Family "network": each process's socket traffic, by direction and kind of socket
(``bpf/network``).

The kernel adds every send and receive of a process of the tree to its entry (bytes and calls,
received and sent, for unix, TCP, UDP and other sockets) in the caller's own context, so a
process that lives a millisecond is counted whole. Each sample reads the entries of the
processes that have one; an entry goes when the process is forgotten.
"""

from __future__ import annotations

import ctypes as ct
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.layout import NET_CLASSES
from denet_tui.model import ProcessNet, SyscallSummary

N = len(NET_CLASSES)
VAL_FMT = "Q" * (4 * N)  # struct net_val: bytes[rx, tx][class], calls[rx, tx][class]


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


class NetworkFamily:
    per_process = True
    name = "network"
    source = "network"
    floors: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ...]] = {}  # serial -> its entry, as last read
        self._ran: set[int] = set()
        self._shown: dict[int, tuple[int, ...]] = {}

    def defines(self) -> dict[str, int | str]:
        return {}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._map = bpf[b"net_procs"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it sent before it joined is not known: it counts from now

    def read_ended(self, known: set[int]) -> None:
        pass  # an ended process's entry stays until it is forgotten: read with the others

    def begin_live(self, active: set[int]) -> None:
        before = self._rows
        self._rows = {key[0]: v for key, v in bpf_maps.dump_raw(self._map, "I", VAL_FMT)}
        self._ran = {s for s, v in self._rows.items() if before.get(s) != v}

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of this family is in the thread's state

    def forget(self, serials: list[int]) -> None:
        for serial in serials:
            self._rows.pop(serial, None)
            self._shown.pop(serial, None)
        bpf_maps.delete_many(self._map, [(s,) for s in serials], "I")

    def settled(self, serial: int) -> bool:
        return True

    def ran(self, serial: int) -> bool:
        return serial in self._ran

    def changed(self, serial: int) -> bool:
        return self._rows.get(serial) != self._shown.get(serial)

    def figures(self, serial: int) -> dict[str, Any]:
        row = self._rows.get(serial)
        self._shown[serial] = row  # type: ignore[assignment]
        return {"net": net_section(row or (0,) * (4 * N))}

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals  # the ledger sums the processes' figures (figures.COUNTERS)

    def snapshot_fields(self) -> dict[str, Any]:
        return {}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"net_procs": len(self._rows), "net_full": kernel["net_full"]}
