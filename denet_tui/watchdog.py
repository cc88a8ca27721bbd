"""The command never outlives us: a guard process stops it if denet-tui dies without cleaning up.

``run`` starts the command in a process group of its own. The normal ways out (``q``, SIGTERM,
SIGHUP, the end of ``--duration``) stop that group themselves. But ``kill -9``, a crash, or the
kernel's OOM killer leave no chance to: the command would go on under PID 1. So ``run`` also
forks a small guard that holds the read end of a pipe and waits. If the pipe reaches end-of-file
without the word "done" first, denet-tui is gone: the guard stops the group the way ``q`` does
(SIGINT, then SIGTERM, then SIGKILL, each while anything of the group still runs) and exits.
The guard leaves our session (``setsid``) and ignores the terminal's signals, so a closed
terminal that kills us does not kill it first.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import time
from collections.abc import Callable

from denet_tui.process_group import group_members, ignores, stopped

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
GRACE_S = 2.0  # per signal, as RunTarget.stop
_DONE = b"d"
PR_SET_NAME = 15
PR_SET_PDEATHSIG = 1


def prctl(option: int, value: int | bytes) -> int:
    """prctl(2); 0 on success, -1 on failure."""
    return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


class Watchdog:
    """A guard for process group ``pgid``; ``disarm()`` once we have stopped it ourselves."""

    def __init__(self, pgid: int, grace: float = GRACE_S, leftovers: tuple[str, ...] = ()) -> None:
        """``leftovers``: files of ours (the command's output log) it removes too."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the guard
            try:
                _guard(r, pgid, grace, leftovers)
            finally:
                os._exit(0)
        os.close(r)
        self.pid = pid
        self._w: int | None = w

    def disarm(self) -> None:
        """We stopped the command ourselves: the guard leaves without touching anything."""
        if self._w is None:
            return
        with contextlib.suppress(OSError):
            os.write(self._w, _DONE)
        os.close(self._w)
        self._w = None
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _guard(r: int, pgid: int, grace: float, leftovers: tuple[str, ...]) -> None:  # pragma: no cover
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP):
        signal.signal(sig, signal.SIG_IGN)
    prctl(PR_SET_NAME, b"denet-tui-guard")
    # Hold nothing of ours open (the command's gate above all: it must see our end-of-file).
    os.dup2(r, 3)
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    got = b""
    while True:
        try:
            chunk = os.read(3, 16)
        except InterruptedError:
            continue
        if not chunk:
            break
        got += chunk
    if _DONE in got:
        return
    stop_group(pgid, grace)
    for path in leftovers:
        with contextlib.suppress(OSError):
            os.unlink(path)


def stop_group(pgid: int, grace: float, running: Callable[[], bool] | None = None) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to process group ``pgid``, each only while something
    of it still runs (``running``; default: a member of the group is not a zombie)."""
    running = running or (lambda: bool(group_members(pgid)))
    for sig in STOP_SIGNALS:
        if not running():
            return
        members = group_members(pgid) if sig != signal.SIGKILL else []  # (one /proc scan)
        # Ignored when sent (not after: a handler may ignore it while it cleans up): a shell's
        # background jobs ignore SIGINT, no use waiting for them.
        ignored = sig != signal.SIGKILL and all(ignores(pid, sig) for pid in members)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
            if any(stopped(pid) for pid in members):
                os.killpg(pgid, signal.SIGCONT)  # a stopped process acts on it only once resumed
        if ignored:
            continue
        deadline = time.monotonic() + grace
        while running() and time.monotonic() < deadline:
            time.sleep(0.02)
