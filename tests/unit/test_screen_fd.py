"""The screen's own descriptor of the terminal: fd 2 goes to /dev/null while it is open (a
compile's messages never reach the screen), and both are put back after."""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = r"""
import os, sys
from denet_tui.screen_fd import ScreenFd
screen = ScreenFd()
os.write(2, b"a library's message\n")
sys.__stderr__.write("the screen\n")
sys.__stderr__.flush()
screen.close()
screen.close()  # again: nothing
os.write(2, b"after\n")
assert sys.__stderr__.fileno() == 2
"""


def test_fd_2_is_quiet_while_the_screen_has_its_own() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b"the screen\nafter\n"


def test_keys_are_not_echoed_while_it_is_open() -> None:
    import os
    import pty
    import termios

    from denet_tui.screen_fd import ScreenFd

    parent, child = pty.openpty()
    try:
        assert termios.tcgetattr(child)[3] & termios.ECHO
        screen = ScreenFd(keys=child)
        try:
            assert not termios.tcgetattr(child)[3] & termios.ECHO
            os.write(parent, b"q\n")
            os.set_blocking(parent, False)
            with pytest.raises(BlockingIOError):
                os.read(parent, 16)  # nothing echoed
        finally:
            screen.close()
        assert termios.tcgetattr(child)[3] & termios.ECHO
        assert os.read(child, 2) == b"q\n"  # kept for the screen, only not shown
    finally:
        os.close(parent)
        os.close(child)
