"""The /proc collector's programs: each program a process of the tree was seen running by the
tree scan, once (the exec family, sampled). What /proc can honestly give: an exec that was
replaced before the next reading, or a process born and gone between two, is not seen; a
failed exec never is. A process's first program is dated at the process's start (its exec came
at or after it); a later one (a shell that `exec`s) at the reading that first saw it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from denet_tui.model import ExecEvent, ProcessSample
from denet_tui.rawtext import decoded


def exe_path(pid: int) -> str:
    """The program's file as the kernel has it (``""`` when it cannot be read)."""
    try:
        return decoded(os.fsencode(os.readlink(f"/proc/{pid}/exe")))
    except OSError:
        return ""


class ProgramsSeen:
    def __init__(self) -> None:
        self._shown: dict[int, tuple] = {}  # pid -> (start_ts, name, cmdline) last reported

    def update(self, live: Iterable[ProcessSample], ended: Iterable[int]) -> tuple[ExecEvent, ...]:
        """The programs seen for the first time at this reading, in time order."""
        out = []
        now = round(time.time(), 6)
        for p in live:
            key = (p.start_ts, p.name, p.cmdline)
            before = self._shown.get(p.pid)
            if before == key:
                continue
            self._shown[p.pid] = key
            first = before is None or before[0] != p.start_ts
            out.append(
                ExecEvent(
                    ts=p.start_ts if first and p.start_ts is not None else now,
                    pid=p.pid,
                    ppid=p.ppid,
                    name=p.name,
                    path=exe_path(p.pid),
                    argv=p.cmdline,
                )
            )
        for pid in ended:
            self._shown.pop(pid, None)
        return tuple(sorted(out, key=lambda e: e.ts))
