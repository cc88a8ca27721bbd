"""What the event families (exec, signals) share: the kernel writes one record per event into
a ring buffer; each sample drains it and hands the new events to the snapshot, in order, once.
A full buffer loses events, and the program counts them (``lost``): never silent. They add no
figures to the processes."""

from __future__ import annotations

import ctypes as ct
import time
from typing import Any, ClassVar

from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.model import SyscallSummary


class EventFamily:
    name: ClassVar[str]
    source: ClassVar[str]
    ring: ClassVar[bytes]  # the ring buffer's name in the BPF source
    field: ClassVar[str]  # the Snapshot field the events go to
    lost: ClassVar[str]  # the program's counter of lost events (layout.DIAG_NAMES)
    raw: ClassVar[type[ct.Structure]]  # one record as the kernel writes it
    floors: frozenset[str] = frozenset()
    per_process = False
    shared: tuple[SharedProgram, ...] = ()

    def __init__(self) -> None:
        self._new: list[Any] = []
        self._seen = 0
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def decode(self, raw: Any) -> Any:
        """One record as the model has it."""
        raise NotImplementedError

    def ts(self, ns: int) -> float:
        """A kernel time stamp as unix time."""
        return round(ns / 1e9 + self._clock, 6)

    def defines(self) -> dict[str, int | str]:
        return {}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._bpf = bpf
        bpf[self.ring].open_ring_buffer(self._on_event)

    def _on_event(self, _ctx: Any, data: Any, size: int) -> None:
        if size >= ct.sizeof(self.raw):
            self._new.append(self.decode(ct.cast(data, ct.POINTER(self.raw)).contents))

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # events: none before it joined

    def read_ended(self, known: set[int]) -> None:
        self._bpf.ring_buffer_consume()  # every event written so far, through _on_event

    def begin_live(self, active: set[int]) -> None:
        pass

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass

    def forget(self, serials: list[int]) -> None:
        pass

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals

    def snapshot_fields(self) -> dict[str, Any]:
        new, self._new = self._new, []
        self._seen += len(new)
        return {self.field: tuple(new)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {f"{self.field}_seen": self._seen, self.lost: kernel[self.lost]}
