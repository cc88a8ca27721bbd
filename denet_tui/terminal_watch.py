"""Notice a terminal that went away without a SIGHUP (its pty master closed, an ssh session
dropped): the tty then reports a hang-up, which ``poll`` shows without reading anything."""

from __future__ import annotations

import os
import select
import stat
import threading
from collections.abc import Callable

CHECK_S = 0.5


def is_terminal(fd: int) -> bool:
    """A terminal, even one that has already hung up (``isatty`` then fails with EIO)."""
    try:
        return os.isatty(fd) or stat.S_ISCHR(os.fstat(fd).st_mode)
    except OSError:
        return False


def watch_terminal(fd: int, on_lost: Callable[[], None], stop: threading.Event) -> None:
    """Start a daemon thread that calls ``on_lost`` once if ``fd`` hangs up, until ``stop``."""

    def run() -> None:
        p = select.poll()
        p.register(fd, 0)  # no events asked for: hang-ups and errors are always reported
        while not stop.wait(CHECK_S):
            if any(ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, ev in p.poll(0)):
                on_lost()
                return

    threading.Thread(target=run, name="denet-tui-terminal-watch", daemon=True).start()
