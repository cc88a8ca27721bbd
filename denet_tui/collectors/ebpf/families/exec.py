"""Family "exec": every exec of the tree, successful or not, as an event (``bpf/exec``).

The kernel writes one event per exec into a ring buffer (the path, the arguments it read at the
exec's entry, the result); each sample drains it and hands the new events to the snapshot, in
order, once. A full buffer loses events: the program counts them (``exec_lost``).
"""

from __future__ import annotations

import ctypes as ct
import errno
import time
from typing import Any

from denet_tui.collectors.ebpf.layout import (
    EXEC_PATH,
    EXEC_PATH_CUT,
    EXEC_PATH_FAULT,
    RawExecEvent,
)
from denet_tui.collectors.ebpf.tracker import argv_strings
from denet_tui.model import ExecEvent, SyscallSummary


def error_name(ret: int) -> str | None:
    """``-2`` -> ``"ENOENT"``; None for a success."""
    if ret >= 0:
        return None
    return errno.errorcode.get(-ret, f"errno {-ret}")


def decode(raw: RawExecEvent, clock: float) -> ExecEvent:
    """One event as the model has it (``clock``: unix time minus the kernel's monotonic)."""
    path = bytes(raw.path).split(b"\0", 1)[0].decode(errors="backslashreplace")
    if raw.flags & EXEC_PATH_FAULT:
        path = ""
    return ExecEvent(
        ts=round(raw.ns / 1e9 + clock, 6),
        pid=raw.pid,
        ppid=raw.ppid or None,
        name=bytes(raw.comm).split(b"\0", 1)[0].decode(errors="backslashreplace"),
        path=path,
        argv=argv_strings(raw.argv),
        error=error_name(raw.ret),
        argv_cut=bool(raw.argv.flags),
        path_cut=bool(raw.flags & (EXEC_PATH_CUT | EXEC_PATH_FAULT)),
    )


class ExecFamily:
    name = "exec"
    source = "exec"
    floors: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._new: list[ExecEvent] = []
        self._seen = 0
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {"EXEC_PATH": EXEC_PATH}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._bpf = bpf
        bpf[b"exec_events"].open_ring_buffer(self._on_event)

    def _on_event(self, _ctx: Any, data: Any, size: int) -> None:
        if size < ct.sizeof(RawExecEvent):
            return
        raw = ct.cast(data, ct.POINTER(RawExecEvent)).contents
        self._new.append(decode(raw, self._clock))

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # execs are events: none before it joined

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        self._bpf.ring_buffer_consume()  # every event written so far, through _on_event

    def begin_live(self, active: set[int]) -> None:
        pass

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass

    def forget(self, serials: list[int]) -> None:
        pass

    # -- figures -------------------------------------------------------------------------

    def settled(self, serial: int) -> bool:
        return True

    def ran(self, serial: int) -> bool:
        return False

    def changed(self, serial: int) -> bool:
        return False

    def figures(self, serial: int) -> dict[str, Any]:
        return {}

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals

    def snapshot_fields(self) -> dict[str, Any]:
        new, self._new = self._new, []
        self._seen += len(new)
        return {"execs": tuple(new)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {"execs_seen": self._seen, "exec_lost": kernel["exec_lost"]}
