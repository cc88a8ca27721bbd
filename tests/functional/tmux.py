"""Driving the real `denet-tui` in a real terminal: tmux, read off the screen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

DENET = Path(sys.executable).with_name("denet-tui")


class Tmux:
    def __init__(self, name: str) -> None:
        self.cmd = ["tmux", "-L", name]

    def start(self, command: str, width: int = 100, height: int = 30) -> None:
        subprocess.run(
            [*self.cmd, "new-session", "-d", "-x", str(width), "-y", str(height), command],
            check=True,
            # The terminal's size is the pane's: a COLUMNS from pytest's own terminal would win.
            env={k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")},
        )

    def screen(self) -> str:
        out = subprocess.run(
            [*self.cmd, "capture-pane", "-p"], capture_output=True, text=True, check=False
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.cmd, "send-keys", *keys], check=True)

    def wait_for(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared on screen:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run([*self.cmd, "kill-server"], capture_output=True, check=False)


def wait_for_file(path: Path, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return path.read_text().strip()
