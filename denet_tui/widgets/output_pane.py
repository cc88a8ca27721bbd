"""The last lines the command wrote (its stdout/stderr go to a log file, never to our screen)."""

from __future__ import annotations

import os
import re

from rich.text import Text
from textual.widgets import Log

from denet_tui.visible import visible

# CSI sequences (colours, cursor moves), OSC sequences (titles, links), and two-byte escapes.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


def clean_line(line: str) -> str:
    """What a terminal would leave visible of one line: no escape sequences, and a carriage
    return (progress bars) keeps only what was written after it. Tabs become spaces; any other
    control character left (a lone ESC, BEL, C1) is written as a readable escape."""
    line = _ESCAPES.sub("", line).rstrip("\r")
    return visible(line.rsplit("\r", 1)[-1].expandtabs())


class LogTail:
    """Reads what a file gained since the last read, whole lines only, at most ``limit`` bytes."""

    def __init__(self, path: str, limit: int = 64 * 1024) -> None:
        self.path = path
        self._limit = limit
        self._pos = 0
        self._partial = b""

    def read(self) -> tuple[list[str], int]:
        """New complete lines, and how many bytes were skipped to stay within the limit."""
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return [], 0
        if size < self._pos:  # truncated: start again
            self._pos, self._partial = 0, b""
        skipped = 0
        if size - self._pos > self._limit:
            skipped = size - self._limit - self._pos
            self._pos, self._partial = size - self._limit, b""
        if size == self._pos:
            return [], skipped
        with open(self.path, "rb") as f:
            f.seek(self._pos)
            data = f.read(size - self._pos)
        self._pos += len(data)
        *lines, self._partial = (self._partial + data).split(b"\n")
        return [clean_line(b.decode(errors="replace")) for b in lines], skipped

    def rest(self) -> str | None:
        """The unfinished last line, once the writer is done."""
        rest, self._partial = self._partial, b""
        return clean_line(rest.decode(errors="replace")) if rest else None


class OutputPane(Log):
    """Tails the command's log file every ``poll`` seconds, keeping the last lines."""

    def __init__(self, path: str | None, *, poll: float = 0.5, id: str | None = None) -> None:
        super().__init__(max_lines=2000, highlight=False, id=id)
        self._tail = LogTail(path) if path else None
        self._poll = poll

    def on_mount(self) -> None:
        if self._tail is None:
            self.border_title = Text("command output")
            self.write_line("(no output captured: only `run` sends a command's output here)")
            return
        self.border_title = Text(f"command output · {visible(self._tail.path)}")
        self.set_interval(self._poll, self.read_new)

    def read_new(self) -> None:
        if self._tail is None:
            return
        lines, skipped = self._tail.read()
        if skipped:
            lines.insert(0, f"… {skipped:,} bytes not shown (see the log file) …")
        if lines:
            self.write_lines(lines)

    def finish(self) -> None:
        """The command ended: show everything, including a last line without a newline."""
        if self._tail is None:
            return
        self.read_new()
        rest = self._tail.rest()
        if rest:
            self.write_line(rest)
