"""What a probe family does for the collector, in the order of one sample."""

from __future__ import annotations

import ctypes as ct
from typing import Any, Protocol

from denet_tui.model import ProcessSample, SyscallSummary


class Family(Protocol):
    name: str
    source: str  # bpf/<source>.bpf.h and bpf/<source>.bpf.c

    def defines(self) -> dict[str, int | str]:
        """Its compile-time knobs (integers, or names from our own tables: never user text)."""

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        """Find its maps in the loaded program, and its fields in the per-thread state."""

    def read_ended(self) -> None:
        """Read what the kernel moved out of ended threads (before the live threads)."""

    def add_thread(self, serial: int, words: memoryview) -> None:
        """A live thread's state as u64 words (read through its pidfd), of process ``serial``."""

    def pending(self, serial: int) -> bool:
        """It holds kernel entries of that (ended) process still to be reaped."""

    def reap(self, serials: list[int]) -> None:
        """These processes ended a while ago: move their figures out of the kernel maps."""

    def figures(self, serial: int, sample: ProcessSample) -> ProcessSample:
        """``sample`` with this family's figures of the process."""

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        """Tree-level figures added to the snapshot's summary."""

    def diagnostics(self) -> dict[str, Any]:
        """Its health figures (map occupancy, …)."""
