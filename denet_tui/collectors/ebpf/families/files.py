"""Family "files": every open of the tree, and every unlink, rmdir, mkdir, rename and truncate
by path, per path and kind of call (``bpf/files``).

The kernel counts each call under (process, path, kind of call): calls, failures, the last
errno, first and last time, and what the calls asked for (read, write, create). Each sample
drains the table into the per-(path, kind) figures kept here (summed over processes, kept after
the processes are forgotten), and hands the snapshot the rows that changed.
"""

from __future__ import annotations

import ctypes as ct
import errno
import time
from dataclasses import dataclass, field
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.layout import (
    FILE_MODE_CREATE,
    FILE_MODE_CUT,
    FILE_MODE_READ,
    FILE_MODE_WRITE,
    FILE_OPS,
    FILE_PATH,
)
from denet_tui.model import FileStat, SyscallSummary
from denet_tui.rawtext import c_string

MAX_FILE_KEYS = 65536  # (process, path) entries in the kernel between two samples
MAX_PATHS = 10_000  # (path, kind) rows followed here; calls on others are counted as left out
KEY_FMT = f"II{FILE_PATH}s"  # struct file_key: serial, op, path
VAL_FMT = "QQQQII"  # struct file_val: calls, failures, first_ns, last_ns, last_errno, modes


@dataclass(slots=True)
class _Path:
    calls: int = 0
    failures: int = 0
    last_errno: int = 0
    modes: int = 0
    first_ns: int = 0
    last_ns: int = 0
    serials: set[int] = field(default_factory=set)


def mode_letters(modes: int) -> str:
    return "".join(
        c for bit, c in ((FILE_MODE_READ, "r"), (FILE_MODE_WRITE, "w"), (FILE_MODE_CREATE, "c"))
        if modes & bit
    )  # fmt: skip


class FilesFamily:
    name = "files"
    source = "files"
    floors: frozenset[str] = frozenset()
    per_process = False

    def __init__(self) -> None:
        self._entries = 0  # entries drained at the last sample
        self._paths: dict[tuple[str, int], _Path] = {}  # by (path, FILE_OP_*)
        self._changed: set[tuple[str, int]] = set()
        self.left_out = 0  # calls on paths beyond MAX_PATHS
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {"FILE_PATH": FILE_PATH, "MAX_FILE_KEYS": MAX_FILE_KEYS}

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._map = bpf[b"file_stats"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it opened before it joined is not known

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        """Drain the table (each entry taken out as it is read, so it holds only what came
        since the last sample, however long the run) into the per-path figures. A call whose
        entry is taken out in the nanoseconds between its lookup and its count is lost."""
        paths = self._paths
        rows = bpf_maps.dump_raw(self._map, KEY_FMT, VAL_FMT, delete=True)
        self._entries = len(rows)
        for key, (calls, failures, first_ns, last_ns, last_errno, modes) in rows:
            path = c_string(key[2])
            if modes & FILE_MODE_CUT:
                path += "…"
            row = (path, key[1])
            acc = paths.get(row)
            if acc is None:
                if len(paths) >= MAX_PATHS:
                    self.left_out += calls
                    continue
                acc = paths[row] = _Path(first_ns=first_ns)
            acc.calls += calls
            acc.failures += failures
            if failures:
                acc.last_errno = last_errno
            acc.modes |= modes
            acc.first_ns = min(acc.first_ns, first_ns)
            acc.last_ns = max(acc.last_ns, last_ns)
            acc.serials.add(key[0])
            self._changed.add(row)

    def begin_live(self, active: set[int]) -> None:
        pass

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass

    def forget(self, serials: list[int]) -> None:
        pass  # the table is drained at every sample: nothing of theirs stays in the kernel

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
        changed, self._changed = self._changed, set()
        rows = []
        for path, op in sorted(changed):
            acc = self._paths[path, op]
            rows.append(
                FileStat(
                    path=path,
                    op=FILE_OPS[op] if op < len(FILE_OPS) else str(op),
                    calls=acc.calls,
                    failures=acc.failures,
                    error=errno.errorcode.get(acc.last_errno) if acc.failures else None,
                    processes=len(acc.serials),
                    modes=mode_letters(acc.modes),
                    first_ts=round(acc.first_ns / 1e9 + self._clock, 6),
                    last_ts=round(acc.last_ns / 1e9 + self._clock, 6),
                    path_cut=path.endswith("…") and bool(acc.modes & FILE_MODE_CUT),
                )
            )
        return {"files": tuple(rows)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "file_entries": self._entries,
            "files_paths": len(self._paths),
            "files_paths_left_out": self.left_out,
            "files_full": kernel["files_full"],
        }
