"""Family "exec": every exec of the tree, successful or not, as an event (``bpf/exec``): the
path, the arguments the kernel read at the exec's entry, the result (see ``events``)."""

from __future__ import annotations

import errno

from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.collectors.ebpf.families.events import EventFamily
from denet_tui.collectors.ebpf.layout import (
    EXEC_PATH,
    EXEC_PATH_CUT,
    EXEC_PATH_FAULT,
    RawExecEvent,
)
from denet_tui.collectors.ebpf.tracker import argv_strings
from denet_tui.model import ExecEvent
from denet_tui.rawtext import c_string


def error_name(ret: int) -> str | None:
    """``-2`` -> ``"ENOENT"``; None for a success."""
    if ret >= 0:
        return None
    return errno.errorcode.get(-ret, f"errno {-ret}")


class ExecFamily(EventFamily):
    name = "exec"
    source = "exec"
    ring = b"exec_events"
    shared = (SharedProgram("sys_exit_exec", "exit", ("execve", "execveat")),)
    field = "execs"
    lost = "exec_lost"
    raw = RawExecEvent

    def defines(self) -> dict[str, int | str]:
        return {"EXEC_PATH": EXEC_PATH}

    def decode(self, raw: RawExecEvent) -> ExecEvent:
        return ExecEvent(
            ts=self.ts(raw.ns),
            pid=raw.pid,
            ppid=raw.ppid or None,
            name=c_string(bytes(raw.comm)),
            path="" if raw.flags & EXEC_PATH_FAULT else c_string(bytes(raw.path)),
            argv=argv_strings(raw.argv),
            error=error_name(raw.ret),
            argv_cut=bool(raw.argv.flags),
            path_cut=bool(raw.flags & (EXEC_PATH_CUT | EXEC_PATH_FAULT)),
        )
