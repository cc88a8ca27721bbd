"""What a probe family does for the collector, in the order of one sample."""

from __future__ import annotations

import ctypes as ct
from typing import Any, Protocol

from denet_tui.model import SyscallSummary


class Family(Protocol):
    name: str
    source: str  # bpf/<source>.bpf.h and bpf/<source>.bpf.c
    # ProcessSample fields its figures give a lower bound of (the collector keeps the larger
    # of its and /proc's); its other figures replace /proc's.
    floors: frozenset[str]
    # It adds figures to processes (not only to the tree or the snapshot's event lists).
    per_process: bool

    def defines(self) -> dict[str, int | str]:
        """Its compile-time knobs (integers, or names from our own tables: never user text)."""

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        """Find its maps in the loaded program, and its fields in the per-thread state."""

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        """User space put process ``pid`` (already running) in the tree as ``serial``;
        ``gated``: run mode's child, which becomes the command at its exec."""

    def read_ended(self, known: set[int]) -> None:
        """Read what the kernel moved out of ended threads (before the live threads), for the
        processes ``known`` (serials); entries of any other are stray: dropped and counted."""

    def begin_live(self, active: set[int]) -> None:
        """The live threads of the ``active`` processes (serials) are read next: what it
        keeps of their threads goes; what it keeps of the others' (idle since) stands."""

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        """A live thread's state as u64 words (read through its pidfd), of an active process."""

    def forget(self, serials: list[int]) -> None:
        """These processes were reported ended a while ago: drop their kernel entries and
        whatever is kept of them."""

    def settled(self, serial: int) -> bool:
        """The (ended) process's figures are final: none of its threads is on its way out."""

    def ran(self, serial: int) -> bool:
        """A thread of the (live) process did something this family sees since the last
        sample (a process none of whose families saw it run is not read from /proc again)."""

    def changed(self, serial: int) -> bool:
        """Its figures of the (live) process may differ from the last ones returned."""

    def figures(self, serial: int) -> dict[str, Any]:
        """This family's section(s) of the process, by ProcessSample field name."""

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        """Tree-level figures added to the snapshot's summary."""

    def totals(self, totals: Any) -> Any:
        """The tree's totals (TreeTotals), with what it knows better."""

    def snapshot_fields(self) -> dict[str, Any]:
        """Its tree-level section(s) of the snapshot, by Snapshot field name."""

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        """Its health figures (map occupancy, …); ``kernel``: the programs' counters by name
        (layout.DIAG_NAMES)."""
