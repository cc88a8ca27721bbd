"""The screen's own descriptor of the terminal: fd 2 goes to /dev/null while it is open (a
compile's messages never reach the screen), and both are put back after."""

from __future__ import annotations

import subprocess
import sys

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
