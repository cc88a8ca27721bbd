"""The /proc collector's files: the paths the tree's processes hold open, as each reading of
``/proc/PID/fd`` finds them (the files family, sampled; op ``held``).

What /proc can honestly give: a file opened and closed between two readings is never seen, a
failed open never is, and a descriptor's path is the kernel's (absolute), not the one passed.
Per path: ``calls`` counts the holdings seen (a process's descriptor newly found on it),
``processes`` the processes seen holding it, first and last time a holding was first seen.
A process that has not run since the last reading has not changed its descriptors: it is not
read again (the process table hands back the same sample object for it).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from denet_tui.model import FileStat, ProcessSample
from denet_tui.rawtext import decoded

MAX_PATHS = 10_000  # paths followed; holdings of others are counted as left out


@dataclass(slots=True)
class _Held:
    calls: int = 0
    first_ts: float = 0.0
    last_ts: float = 0.0
    processes: set[int] = field(default_factory=set)
    last_by: tuple[int, str] | None = None  # the latest process found holding it


def fd_targets(pid: int) -> dict[int, str]:
    """Descriptor -> what it points at (``readlink`` of ``/proc/PID/fd/N``: a path,
    ``socket:[inode]``, ``pipe:[inode]``, …); {} if they cannot be read (gone, or not ours)."""
    out: dict[int, str] = {}
    base = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(base)
    except OSError:
        return out
    for fd in fds:
        try:
            out[int(fd)] = os.readlink(f"{base}/{fd}")
        except OSError:
            continue  # closed meanwhile
    return out


def open_paths(pid: int) -> dict[int, str]:
    """Descriptor -> path of each of ``pid``'s descriptors on a path (sockets, pipes and
    anonymous inodes left out)."""
    return {
        fd: decoded(os.fsencode(target))
        for fd, target in fd_targets(pid).items()
        if target.startswith("/")
    }


class HeldFiles:
    def __init__(self) -> None:
        self._paths: dict[str, _Held] = {}
        self._held: dict[int, dict[int, str]] = {}  # pid -> its descriptors at the last reading
        self._read: dict[int, ProcessSample] = {}  # pid -> the sample its reading went with
        self.left_out = 0

    def update(self, live: Iterable[ProcessSample], ended: Iterable[int]) -> tuple[FileStat, ...]:
        """The paths whose figures changed at this reading, with their figures since the start."""
        now = round(time.time(), 6)
        changed: set[str] = set()
        for p in live:
            if self._read.get(p.pid) is p:
                continue  # it has not run since: the same descriptors
            self._read[p.pid] = p
            before = self._held.get(p.pid, {})
            now_held = open_paths(p.pid)
            for fd, path in now_held.items():
                if before.get(fd) == path:
                    continue
                acc = self._paths.get(path)
                if acc is None:
                    if len(self._paths) >= MAX_PATHS:
                        self.left_out += 1
                        continue
                    acc = self._paths[path] = _Held(first_ts=now)
                acc.calls += 1
                acc.last_ts = now
                acc.processes.add(p.pid)
                acc.last_by = (p.pid, p.name)
                changed.add(path)
            self._held[p.pid] = now_held
        for pid in ended:
            self._held.pop(pid, None)
            self._read.pop(pid, None)
        return tuple(
            FileStat(
                path=path,
                op="held",
                calls=self._paths[path].calls,
                failures=0,
                error=None,
                processes=len(self._paths[path].processes),
                modes="",
                first_ts=self._paths[path].first_ts,
                last_ts=self._paths[path].last_ts,
                last_pid=by[0] if (by := self._paths[path].last_by) else None,
                last_name=by[1] if by else None,
            )
            for path in sorted(changed)
        )
