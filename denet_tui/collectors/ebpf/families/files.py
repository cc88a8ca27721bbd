"""Family "files": every open of the tree, and every unlink, rmdir, mkdir, rename and truncate
by path, per path and kind of call (``bpf/files``).

The kernel gives each (path, kind of call, working directory) an id the first time the tree
uses it, names it once (a ring buffer record), and counts under it: calls, failures, the last errno,
first and last time, what the calls asked for (read, write, create), and the processes that
made them, each once (a bit per id in each live process's set, dropped at its exit). Each
sample reads the figures of the ids in use and adds what changed to the rows shown, kept for
the whole run; nothing per process is kept here or has to be deleted in the kernel. A row sums
the ids whose paths read the same: a relative path's ids (one per working directory id: a
process that left a directory and came back counts once under each) are one row, joined to
their directory; the same file named absolute is another row.

A relative path comes with the id of the working directory it was opened in (the kernel
follows ids across forks and chdir). An id is named by the chdir that made it (its path, under
the directory it left when relative), or else read from /proc/PID/cwd of a live process that
holds it (kept only if the process held the same id before and after the read); a path whose
directory has no name when first seen stays as passed, marked so.
"""

from __future__ import annotations

import ctypes as ct
import errno
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.collectors.ebpf.layout import (
    FILE_AT_DIRFD,
    FILE_CWD_CHANGING,
    FILE_MODE_CREATE,
    FILE_MODE_CUT,
    FILE_MODE_READ,
    FILE_MODE_UNNAMED,
    FILE_MODE_WRITE,
    FILE_OPS,
    FILE_PATH,
    FILE_SHORT,
    FILE_TAIL,
)
from denet_tui.model import FileStat, SyscallSummary
from denet_tui.rawtext import c_string

# The calls counted by path (files.bpf.c's `files_call_entered`).
FILE_CALLS = (
    *("open", "openat", "openat2", "creat", "unlink", "unlinkat", "rmdir", "mkdir", "mkdirat"),
    *("rename", "renameat", "renameat2", "truncate"),
)
MAX_FILE_IDS = 65536  # (path, call, directory) ids in the kernel for the whole run
MAX_PATHS = 10_000  # (path, kind) rows followed here; calls on others are counted as left out
MAX_CWDS = 10_000  # working directories' paths (and chdir names) kept (the oldest go first)
MAX_CWD_NAMES = 4096  # chdirs in the kernel between two samples
NAME_HEAD = struct.Struct("IIII")  # struct file_name: id, op, cwd, cut; then the path
# struct file_val: calls, failures, processes, first_ns, last_ns, errno, modes, last_serial, pad,
# first_serial
VAL_FMT = "QQQQQIIIIQ"
VAL_SIZE = struct.calcsize(VAL_FMT)
CWD_FMT = "II"  # struct cwd_val: id, tgid
CWD_NAME_FMT = f"II{FILE_PATH}s"  # struct cwd_name: from, pad, path
_ZERO = (0, 0, 0, 0, 0, 0, 0, 0, 0)


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
    processes: int = 0  # summed over its ids (each counts a process once)
    last_by: tuple[int, str] | None = None  # (pid, name) of the latest call's process


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
    shared = (
        SharedProgram("sys_enter_files", "enter", FILE_CALLS),
        SharedProgram("sys_exit_files", "exit", FILE_CALLS),
        SharedProgram("sys_enter_cwd", "enter", ("chdir", "fchdir")),
        SharedProgram("sys_exit_cwd", "exit", ("chdir", "fchdir")),
    )

    def __init__(self) -> None:
        # A process by its serial: (pid, name), while the collector knows it (it sets this).
        self.process_of: Callable[[int], tuple[int, str] | None] = lambda serial: None
        self._entries = 0  # ids whose figures changed at the last sample
        # by (path, FILE_OP_*, FileStat.relative, FileStat.joined)
        self._paths: dict[tuple[str, int, str | None, bool], _Path] = {}
        self._changed: set[tuple[str, int, str | None, bool]] = set()
        self._rows_of: dict[int, tuple] = {}  # id -> its row, once named
        self._seen = b""  # the ids' figures as last read (VAL_SIZE bytes each)
        self._last: dict[int, tuple[int, ...]] = {}  # id -> its figures as last added
        self._cwd_paths: dict[int, str] = {}  # working directory id -> its path
        self._cwd_names: dict[int, tuple[int, str]] = {}  # id -> (id it left, chdir's path)
        self.left_out = 0  # calls on paths beyond MAX_PATHS
        self.unnamed = 0  # calls on ids whose name was lost (the kernel's ring buffer full)
        self._new_names: list[tuple[int, int, int, int, bytes]] = []
        self._clock = time.time() - time.monotonic()  # bpf_ktime_get_ns's clock is monotonic

    def defines(self) -> dict[str, int | str]:
        return {
            "FILE_PATH": FILE_PATH,
            "FILE_SHORT": FILE_SHORT,
            "MAX_FILE_IDS": MAX_FILE_IDS,
            "MAX_CWD_NAMES": MAX_CWD_NAMES,
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        self._stats = bpf[b"file_stats"]
        assert ct.sizeof(self._stats.Leaf) == VAL_SIZE
        self._next = bpf[b"file_next"]
        self._bpf = bpf
        bpf[b"file_names"].open_ring_buffer(self._on_name)
        self._cwds = bpf[b"cwds"]
        self._cwd_name_map = bpf[b"cwd_names"]

    def seeded(self, serial: int, pid: int, gated: bool) -> None:
        pass  # what it opened before it joined is not known

    # -- reading -------------------------------------------------------------------------

    def read_ended(self, known: set[int]) -> None:
        """The new ids' names, then the figures of every id in use: what changed since the
        last sample is added to its row. An id counted before its name is read (the
        nanoseconds between the two in the kernel) is added at the next sample."""
        for (cwd,), (left, _pad, path) in bpf_maps.dump_raw(
            self._cwd_name_map, "I", CWD_NAME_FMT, delete=True
        ):
            _bounded(self._cwd_names)[cwd] = (left, c_string(path))
        self._bpf.ring_buffer_consume()  # (every family's ring: the events' wait for theirs)
        names, self._new_names = self._new_names, []
        self._learn({cwd for _, _, cwd, _, _ in names if cwd and self._cwd(cwd) is None})
        for fid, op, cwd, cut, raw in names:
            self._rows_of[fid] = self._row(raw, op, cwd, cut)
        used = min(self._next[ct.c_int(0)].value, MAX_FILE_IDS)
        now = bpf_maps.read_array(self._stats, used)
        before, self._seen = self._seen, now
        if now == before[: len(now)]:
            self._entries = 0
            return
        self._entries = self._add_changed(now, before)

    def _on_name(self, _ctx: Any, data: Any, size: int) -> None:
        raw = ct.string_at(data, size)
        self._new_names.append((*NAME_HEAD.unpack_from(raw), raw[NAME_HEAD.size :]))

    def add_figures(self, fid: int, val: tuple[int, ...]) -> None:
        """Id ``fid``'s figures now (``VAL_FMT``): what grew since the last is added to its
        row. An id not named yet is left for the next sample; one whose name was lost is
        counted in ``unnamed``."""
        calls, failures, processes, first_ns, last_ns, last_errno, modes, last_serial, *_ = val
        row = self._rows_of.get(fid)
        if row is None and not modes & FILE_MODE_UNNAMED:
            return
        old = self._last.get(fid, _ZERO)
        self._last[fid] = val
        if row is None:
            self.unnamed += calls - old[0]
            return
        acc = self._paths.get(row)
        if acc is None:
            if len(self._paths) >= MAX_PATHS:
                self.left_out += calls - old[0]
                return
            acc = self._paths[row] = _Path(first_ns=first_ns)
        acc.calls += calls - old[0]
        acc.failures += failures - old[1]
        acc.processes += processes - old[2]
        if failures > old[1]:
            acc.last_errno = last_errno
        acc.modes |= modes
        acc.first_ns = min(acc.first_ns, first_ns)
        if last_ns >= acc.last_ns:
            acc.last_ns = last_ns
            acc.last_by = self.process_of(last_serial)
        self._changed.add(row)

    def _add_changed(self, now: bytes, before: bytes) -> int:
        """Hand each id whose figures differ from the last read to ``add_figures``."""
        changed = 0
        unpack = struct.Struct(VAL_FMT).unpack_from
        for at in range(0, len(now), VAL_SIZE):
            end = at + VAL_SIZE
            if now[at:end] == before[at:end]:
                continue
            changed += 1
            fid = at // VAL_SIZE
            self.add_figures(fid, unpack(now, at))
            if fid not in self._last:
                # Not named yet: read as changed again next time.
                self._seen = self._seen[:at] + b"\xff" * VAL_SIZE + self._seen[end:]
        return changed

    def _row(self, raw: bytes, op: int, cwd: int, modes: int) -> tuple:
        """The (path, call, relative, joined) row an id counts under: joined, if its path was
        joined to its working directory."""
        kind = op & ~(FILE_AT_DIRFD | FILE_TAIL)
        if op & FILE_TAIL:
            # Its last bytes (the file name): its start is not known, so never joined.
            relative = "dirfd" if op & FILE_AT_DIRFD else ("cut" if cwd else None)
            return ("…" + c_string(raw), kind, relative, False)
        path, relative = self._shown(c_string(raw), op & FILE_AT_DIRFD, cwd)
        joined = relative == "cwd"
        if modes & FILE_MODE_CUT:
            path += "…"
        return (path, kind, None if joined else relative, joined)

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
        pass  # a process's set of ids is dropped in the kernel at its exit

    # -- figures -------------------------------------------------------------------------

    def tree(self, summary: SyscallSummary) -> SyscallSummary:
        return summary

    def totals(self, totals: Any) -> Any:
        return totals

    def snapshot_fields(self) -> dict[str, Any]:
        changed, self._changed = self._changed, set()
        rows = []
        for path, op, relative, joined in sorted(
            changed, key=lambda r: (r[0], r[1], r[2] or "", r[3])
        ):
            acc = self._paths[path, op, relative, joined]
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
                    path_cut=bool(acc.modes & FILE_MODE_CUT)
                    and (path.startswith("…") or path.endswith("…")),
                    relative=relative,
                    joined=joined,
                    last_pid=acc.last_by[0] if acc.last_by else None,
                    last_name=acc.last_by[1] if acc.last_by else None,
                )
            )
        return {"files": tuple(rows)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            "file_entries": self._entries,
            "file_ids": len(self._seen) // VAL_SIZE,
            "file_ids_max": MAX_FILE_IDS,
            "files_unnamed_calls": self.unnamed,
            "files_paths": len(self._paths),
            "files_paths_left_out": self.left_out,
            "files_cwds_known": len(self._cwd_paths),
            "files_full": kernel["files_full"],
        }
