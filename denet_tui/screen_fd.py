"""The screen draws on a descriptor of the terminal of its own; fd 2 goes to /dev/null meanwhile.

Textual draws on ``sys.__stderr__`` (fd 2), and C libraries write their messages to fd 2: BCC
and clang while the BPF program compiles, in a thread, as the first frame is drawn. To keep
those messages out of the user's terminal, ``support.quiet_stderr`` points fd 2 at a file for
the compile, which took the screen's frames with them. With a descriptor of its own, the
screen is neither written over nor captured.

While it is open, keys typed are not echoed: the screen takes a moment to come up, and a key
pressed before (a quick ``q``) would otherwise be printed on the terminal and left there.
"""

from __future__ import annotations

import contextlib
import os
import sys
import termios
from typing import Any

from denet_tui import fd2


class ScreenFd:
    """While open, ``sys.__stderr__`` (what Textual draws on) is ``terminal``, a new descriptor
    of the terminal, and fd 2 is /dev/null; ``close`` (idempotent) puts both back, after a
    compile under way (``fd2.LOCK``), and the echo of keys (``keys``: the terminal's
    descriptor, standard input by default)."""

    def __init__(self, keys: int | None = None) -> None:
        self._original = sys.__stderr__
        self._saved: int | None = None
        self.terminal: Any = None
        self._keys, self._modes = self._no_echo(keys)
        if self._original is None:
            return
        with fd2.LOCK:
            self._original.flush()
            self.terminal = os.fdopen(
                os.dup(self._original.fileno()),
                "w",
                encoding=self._original.encoding,
                errors=self._original.errors,
            )
            self._saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            sys.__stderr__ = self.terminal

    @staticmethod
    def _no_echo(fd: int | None) -> tuple[int, list[Any] | None]:
        """Echo off on terminal ``fd`` (None: standard input, as Textual reads it): (fd, its
        modes before), or no modes if not a terminal. (Textual keeps the modes it finds and
        puts them back when the screen closes.)"""
        try:
            if fd is None:
                fd = sys.__stdin__.fileno()  # type: ignore[union-attr]
            modes = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~termios.ECHO
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except (termios.error, OSError, ValueError, AttributeError):
            return -1, None
        return fd, modes

    def close(self) -> None:
        if self._modes is not None:
            with contextlib.suppress(termios.error, OSError):  # a terminal gone: nothing to do
                termios.tcsetattr(self._keys, termios.TCSANOW, self._modes)
            self._modes = None
        with fd2.LOCK:
            if self._saved is None:
                return
            sys.__stderr__ = self._original
            with contextlib.suppress(OSError, ValueError):
                self.terminal.close()  # a terminal gone: nothing left to write
            os.dup2(self._saved, 2)
            os.close(self._saved)
            self._saved = None
