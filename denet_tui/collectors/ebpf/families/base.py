"""What a probe family does for the collector, in the order of one sample; and the shared
base of the families whose per-process figures are one map entry per process."""

from __future__ import annotations

import ctypes as ct
import struct
from typing import Any, NamedTuple, Protocol

from denet_tui.collectors import bpf_maps
from denet_tui.model import SyscallSummary


class SharedProgram(NamedTuple):
    """A program for each of ``calls`` (by their names in the syscall table) this architecture
    has, at its entry or exit: attached to each call's ``syscalls:sys_<end>_<call>``
    tracepoint, or handed the calls by the syscalls family's raw programs where they serve
    (``loader.shared_served``). The source tells the calls apart by number
    (``CALL_NR_<CALL>``, which the loader defines, -1 for a call it lacks)."""

    program: str
    end: str  # "enter" | "exit"
    calls: tuple[str, ...]


class Family(Protocol):
    name: str
    source: str  # bpf/<source>.bpf.h and bpf/<source>.bpf.c
    # ProcessSample fields its figures give a lower bound of (the collector keeps the larger
    # of its and /proc's); its other figures replace /proc's.
    floors: frozenset[str]
    # It adds figures to processes (not only to the tree or the snapshot's event lists).
    per_process: bool
    # Its programs that each serve several system calls (SHARED_ENTER, SHARED_EXIT in
    # tree.bpf.h; see SharedProgram).
    shared: tuple[SharedProgram, ...]

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

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        """Tree-level figures added to the snapshot's summary."""

    def totals(self, totals: Any) -> Any:
        """The tree's totals (TreeTotals), with what it knows better."""

    def snapshot_fields(self) -> dict[str, Any]:
        """Its tree-level section(s) of the snapshot, by Snapshot field name."""

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        """Its health figures (map occupancy, …); ``kernel``: the programs' counters by name
        (layout.DIAG_NAMES)."""


class ProcessFigures(Family, Protocol):
    """A family with figures of each process (``per_process``): the collector asks only these
    about a process."""

    def settled(self, serial: int) -> bool:
        """The (ended) process's figures are final: none of its threads is on its way out."""

    def ran(self, serial: int) -> bool:
        """A thread of the (live) process did something this family sees since the last
        sample (a process none of whose families saw it run is not read from /proc again)."""

    def changed(self, serial: int) -> bool:
        """Its figures of the (live) process may differ from the last ones returned."""

    def figures(self, serial: int) -> dict[str, Any]:
        """This family's section(s) of the process, by ProcessSample field name."""


# What the families whose per-process figures are one kernel map entry per process (keyed by
# serial, added to in the process's own context) share: each sample reads the whole map, an
# entry stays until its process is forgotten, and a process's section is made from its entry.
class ProcessEntries:
    per_process = True
    floors: frozenset[str] = frozenset()
    shared: tuple[SharedProgram, ...] = ()
    map_name: bytes  # the map of entries, by serial
    value_fmt: str  # its values, as a ``struct`` format
    section: str  # the ProcessSample field the entry fills

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ...]] = {}  # serial -> its entry, as last read
        self._ran: set[int] = set()
        self._shown: dict[int, tuple[int, ...] | None] = {}
        self._none = struct.unpack(self.value_fmt, bytes(struct.calcsize(self.value_fmt)))
        # The section of a process without an entry (most never make one): one for them all.
        self._zero = self.make_section(self._none)

    def make_section(self, row: tuple[int, ...]) -> Any:
        """The process's section from its entry (all zeros: none yet)."""
        raise NotImplementedError

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._map = bpf[self.map_name]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it did before it joined is not known: it counts from now

    def read_ended(self, known: set[int]) -> None:
        pass  # an ended process's entry stays until it is forgotten: read with the others

    def begin_live(self, active: set[int]) -> None:
        before = self._rows
        self._rows = {key[0]: v for key, v in bpf_maps.dump_raw(self._map, "I", self.value_fmt)}
        self._ran = {s for s, v in self._rows.items() if before.get(s) != v}

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass  # nothing of these families is in the thread's state

    def forget(self, serials: list[int]) -> None:
        # Only the entries there are (read at this sample, after these processes ended): most
        # processes never make one, and a missing key costs the batch delete a call of its own.
        rows = self._rows
        had = [(s,) for s in serials if s in rows]
        for serial in serials:
            rows.pop(serial, None)
            self._shown.pop(serial, None)
        bpf_maps.delete_many(self._map, had, "I")

    def settled(self, serial: int) -> bool:
        return True

    def ran(self, serial: int) -> bool:
        return serial in self._ran

    def changed(self, serial: int) -> bool:
        # (A process with no entry is shown as None: all zeros, unchanged while it has none.)
        return serial not in self._shown or self._rows.get(serial) != self._shown[serial]

    def figures(self, serial: int) -> dict[str, Any]:
        row = self._shown[serial] = self._rows.get(serial)
        return {self.section: self._zero if row is None else self.make_section(row)}

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals  # the ledger sums the processes' figures (figures.COUNTERS)
