"""fd 2 is pointed elsewhere for a while by two parties: the BPF compile (BCC's messages go to a
file, ``support.quiet_stderr``, in the thread that loads the collector) and the screen (its own
descriptor of the terminal, fd 2 on /dev/null, ``screen_fd.ScreenFd``). Each puts back what it
found, so they take turns: this lock."""

from __future__ import annotations

import threading

LOCK = threading.RLock()
