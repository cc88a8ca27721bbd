"""One monitoring session: the target, the armed collector, and where output goes."""

from __future__ import annotations

import os
import platform
import socket
import tempfile
import time
from dataclasses import dataclass, field

from denet_tui import __version__
from denet_tui.collectors.base import Collector
from denet_tui.model import Meta
from denet_tui.target import ChildOutput, RunTarget, Target


@dataclass
class Session:
    meta: Meta
    collector: Collector
    target: Target | None  # None when replaying
    interval: float
    record_path: str | None = None
    export_path: str | None = None
    exit_on_finish: bool = False
    output_log: str | None = None  # where a run command's stdout/stderr go (TUI mode)
    duration: float | None = None
    _finished: bool = field(default=False, repr=False)

    def finish(self) -> int:
        """Stop what we started (gracefully), free the collector; return the status to exit with.

        Idempotent. In run mode the command's own exit status passes through; attach and replay
        leave with 0.
        """
        code = 0
        if isinstance(self.target, RunTarget):
            self.target.close()
            st = self.target.poll()
            code = st.exit_code if st.exit_code is not None else 1
        if not self._finished:
            self._finished = True
            self.collector.close()
        return code


def child_output(tui: bool, json_to_stdout: bool) -> tuple[ChildOutput, str | None]:
    """Where the command's stdio goes. With a screen: a log file (never the terminal) and no stdin.

    Headless with JSON on stdout: the command's stdout goes to our stderr, so the stream parses.
    """
    if tui:
        fd, path = tempfile.mkstemp(prefix="denet-tui-", suffix=".log")
        devnull = os.open(os.devnull, os.O_RDONLY)
        return ChildOutput(stdin=devnull, stdout=fd, stderr=fd), path
    if json_to_stdout:
        return ChildOutput(stdout=2), None
    return ChildOutput(), None


def make_meta(target: Target, collector: Collector, interval: float) -> Meta:
    return Meta(
        tool_version=__version__,
        host=socket.gethostname(),
        kernel=platform.release(),
        mode=target.mode,  # type: ignore[arg-type]
        cmd=target.cmd,
        pid=target.pid,
        collector=collector.info,
        interval=interval,
        started_ts=time.time(),
    )
