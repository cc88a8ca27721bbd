"""Family "files": every open of the tree, and every unlink, rmdir, mkdir, rename and truncate
by path, per path and kind of call (``bpf/files``).

The kernel counts each call under (process, path, kind of call): calls, failures, the last
errno, first and last time, and what the calls asked for (read, write, create). Each sample
drains the table into the per-(path, kind) figures kept here (summed over processes, kept after
the processes are forgotten), and hands the snapshot the rows that changed.

A relative path comes with the id of the working directory it was opened in (the kernel
follows ids across forks and chdir). An id is named by the chdir that made it (its path, under
the directory it left when relative), or else read from /proc/PID/cwd of a live process that
holds it (kept only if the process held the same id before and after the read); a path whose
directory has no name so far stays as passed, marked so.
"""

from __future__ import annotations

import ctypes as ct
import errno
import os
import time
from dataclasses import dataclass, field
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.layout import (
    FILE_AT_DIRFD,
    FILE_CWD_CHANGING,
    FILE_MODE_CREATE,
    FILE_MODE_CUT,
    FILE_MODE_READ,
    FILE_MODE_WRITE,
    FILE_OPS,
    FILE_PATH,
    FILE_SHORT,
)
from denet_tui.model import FileStat, SyscallSummary
from denet_tui.rawtext import c_string

MAX_FILE_KEYS = 65536  # (process, path) entries in the kernel between two samples
MAX_PATHS = 10_000  # (path, kind) rows followed here; calls on others are counted as left out
MAX_CWDS = 10_000  # working directories' paths (and chdir names) kept (the oldest go first)
MAX_CWD_NAMES = 4096  # chdirs in the kernel between two samples
MAX_SHOWN = 65536  # (raw path, call, directory) entries whose shown form is remembered
MAX_FORGOTTEN = 100_000  # forgotten processes recognised if a late entry of theirs comes
KEY_FMT = f"IIII{FILE_PATH}s"  # struct file_key: serial, op, cwd, pad, path
SHORT_KEY_FMT = f"IIII{FILE_SHORT}s"  # struct file_key_short
VAL_FMT = "QQQQII"  # struct file_val: calls, failures, first_ns, last_ns, last_errno, modes
CWD_FMT = "II"  # struct cwd_val: id, tgid
CWD_NAME_FMT = f"II{FILE_PATH}s"  # struct cwd_name: from, pad, path


def joined(cwd: str, path: str) -> str:
    """``path`` (relative) under ``cwd``; only "." steps at its start are dropped (".." is
    kept: with symbolic links, taking it off by text could name another directory)."""
    while path.startswith("./"):
        path = path[2:].lstrip("/")
    if path == ".":
        path = ""
    return cwd.rstrip("/") + "/" + path if path else cwd


@dataclass(slots=True)
class _Path:
    calls: int = 0
    failures: int = 0
    last_errno: int = 0
    modes: int = 0
    first_ns: int = 0
    last_ns: int = 0
    joined: bool = False  # some calls passed it relative to the working directory
    # The processes that used it: those not forgotten yet by serial, the others counted (a
    # set of every process ever seen would grow without end in a long build).
    serials: set[int] = field(default_factory=set)
    gone: int = 0

    @property
    def processes(self) -> int:
        return self.gone + len(self.serials)


def _bounded(d: dict, limit: int = MAX_CWDS) -> dict:
    """``d``, its oldest entry let go if it holds ``limit``."""
    if len(d) >= limit:
        del d[next(iter(d))]
    return d


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
        # by (path, FILE_OP_*, FileStat.relative)
        self._paths: dict[tuple[str, int, str | None], _Path] = {}
        self._changed: set[tuple[str, int, str | None]] = set()
        # (raw path, call, directory id, cut) -> (row, joined): most entries repeat a path
        self._shown_rows: dict[tuple[bytes, int, int, int], tuple[tuple, bool]] = {}
        self._touched: dict[int, set[tuple[str, int, str | None]]] = {}  # serial -> rows
        self._forgotten: dict[int, None] = {}  # recently forgotten serials, oldest first
        self._cwd_paths: dict[int, str] = {}  # working directory id -> its path
        self._cwd_names: dict[int, tuple[int, str]] = {}  # id -> (id it left, chdir's path)
        self.left_out = 0  # calls on paths beyond MAX_PATHS
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {
            "FILE_PATH": FILE_PATH,
            "FILE_SHORT": FILE_SHORT,
            "MAX_FILE_KEYS": MAX_FILE_KEYS,
            "MAX_CWD_NAMES": MAX_CWD_NAMES,
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._map = bpf[b"file_stats"]
        self._short_map = bpf[b"file_stats_short"]
        self._cwds = bpf[b"cwds"]
        self._cwd_name_map = bpf[b"cwd_names"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it opened before it joined is not known

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        """Drain the table (each entry taken out as it is read, so it holds only what came
        since the last sample, however long the run) into the per-path figures. A call whose
        entry is taken out in the nanoseconds between its lookup and its count is lost."""
        paths = self._paths
        rows = bpf_maps.dump_raw(self._short_map, SHORT_KEY_FMT, VAL_FMT, delete=True)
        rows += bpf_maps.dump_raw(self._map, KEY_FMT, VAL_FMT, delete=True)
        self._entries = len(rows)
        for (cwd,), (left, _pad, path) in bpf_maps.dump_raw(
            self._cwd_name_map, "I", CWD_NAME_FMT, delete=True
        ):
            _bounded(self._cwd_names)[cwd] = (left, c_string(path))
        self._learn({key[2] for key, _ in rows if key[2] and self._cwd(key[2]) is None})
        shown_rows, touched, changed = self._shown_rows, self._touched, self._changed
        forgotten = self._forgotten
        for (serial, op, cwd, _pad, raw), val in rows:
            calls, failures, first_ns, last_ns, last_errno, modes = val
            memo = (raw, op, cwd, modes & FILE_MODE_CUT)
            shown = shown_rows.get(memo)
            if shown is None:
                shown = self._row(raw, op, cwd, modes)
                if shown[0][2] != "cwd unknown":  # it may be known later
                    if len(shown_rows) >= MAX_SHOWN:
                        shown_rows.clear()
                    shown_rows[memo] = shown
            row, joined = shown
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
            if first_ns < acc.first_ns:
                acc.first_ns = first_ns
            if last_ns > acc.last_ns:
                acc.last_ns = last_ns
            if joined:
                acc.joined = True
            if serial not in acc.serials and serial not in forgotten:
                acc.serials.add(serial)
                rows_of = touched.get(serial)
                if rows_of is None:
                    rows_of = touched[serial] = set()
                rows_of.add(row)
            changed.add(row)

    def _row(self, raw: bytes, op: int, cwd: int, modes: int) -> tuple[tuple, bool]:
        """The (path, call, relative) row a kernel entry counts under, and whether its path
        was joined to its working directory."""
        path, relative = self._shown(c_string(raw), op & FILE_AT_DIRFD, cwd)
        joined = relative == "cwd"
        if modes & FILE_MODE_CUT:
            path += "…"
        return (path, op & ~FILE_AT_DIRFD, None if joined else relative), joined

    def _shown(self, path: str, at_dirfd: int, cwd: int) -> tuple[str, str | None]:
        """The path as shown, and how a relative one was resolved: "cwd" (joined), or
        FileStat.relative."""
        if at_dirfd:
            return path, "dirfd"
        if not cwd:
            return path, None  # absolute (or unreadable: empty)
        known = self._cwd(cwd)
        return (joined(known, path), "cwd") if known is not None else (path, "cwd unknown")

    def _cwd(self, cwd: int, depth: int = 0) -> str | None:
        """The path of working directory ``cwd`` (an id), if known."""
        known = self._cwd_paths.get(cwd)
        if known is not None or cwd not in self._cwd_names or depth > 64:
            return known
        left, path = self._cwd_names[cwd]
        base = "" if path.startswith("/") else self._cwd(left, depth + 1)
        if base is None:
            return None
        _bounded(self._cwd_paths)[cwd] = known = joined(base, path) if base else path
        return known

    def _learn(self, wanted: set[int]) -> None:
        """The paths of the working directories ``wanted`` (ids), from live processes in them."""
        wanted.discard(FILE_CWD_CHANGING)
        if not wanted:
            return
        for (serial,), (cwd, tgid) in bpf_maps.dump_raw(self._cwds, "I", CWD_FMT):
            if cwd not in wanted:
                continue
            try:
                path = os.readlink(f"/proc/{tgid}/cwd")
                still = self._cwds[self._cwds.Key(serial)].id
            except (OSError, KeyError):
                continue  # ended (or chdir-ing: no entry yet), or not ours to read
            if still != cwd or path.endswith(" (deleted)"):
                continue  # it moved while we read; or its directory is gone: no honest name
            _bounded(self._cwd_paths)[cwd] = path
            wanted.discard(cwd)
            if not wanted:
                return

    def begin_live(self, active: set[int]) -> None:
        pass

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        pass

    def forget(self, serials: list[int]) -> None:
        """Processes ended and reported: each path they used counts them without their serial
        (the table is drained at every sample: nothing of theirs stays in the kernel)."""
        for serial in serials:
            for row in self._touched.pop(serial, ()):
                acc = self._paths.get(row)
                if acc is not None and serial in acc.serials:
                    acc.serials.discard(serial)
                    acc.gone += 1
            _bounded(self._forgotten, MAX_FORGOTTEN)[serial] = None

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
        for path, op, relative in sorted(changed, key=lambda r: (r[0], r[1], r[2] or "")):
            acc = self._paths[path, op, relative]
            rows.append(
                FileStat(
                    path=path,
                    op=FILE_OPS[op] if op < len(FILE_OPS) else str(op),
                    calls=acc.calls,
                    failures=acc.failures,
                    error=errno.errorcode.get(acc.last_errno) if acc.failures else None,
                    processes=acc.processes,
                    modes=mode_letters(acc.modes),
                    first_ts=round(acc.first_ns / 1e9 + self._clock, 6),
                    last_ts=round(acc.last_ns / 1e9 + self._clock, 6),
                    path_cut=path.endswith("…") and bool(acc.modes & FILE_MODE_CUT),
                    relative=relative,
                    joined=acc.joined,
                )
            )
        return {"files": tuple(rows)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "file_entries": self._entries,
            "files_paths": len(self._paths),
            "files_paths_left_out": self.left_out,
            "files_cwds_known": len(self._cwd_paths),
            "files_full": kernel["files_full"],
        }
