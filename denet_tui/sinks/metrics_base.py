"""What the metric outputs (Prometheus, OTLP) share: each snapshot updates the per-command
totals and the latest :class:`~denet_tui.metrics.Run`; the metrics are built when read (a
scrape, a push), from another thread, under one lock."""

from __future__ import annotations

import os
import threading

from denet_tui.metrics import DEFAULT_TOP, CommandTotals, Metric, Run, build
from denet_tui.model import EMPTY_FINISHED, FinishedSummary, Meta, ProcessSample, Snapshot
from denet_tui.visible import visible


def group_of(meta: Meta) -> str:
    """The watched job's name: the root command's (its program's file name)."""
    cmd = meta.target.cmd or ()
    return os.path.basename(cmd[0]) if cmd else f"pid {meta.target.pid}"


class MetricsSink:
    def __init__(self, name: str | None = None, top: int = DEFAULT_TOP) -> None:
        self._name = name
        self.group = name or ""
        self._commands = CommandTotals(top)
        self._run: Run | None = None
        self._info: dict[str, str] = {}
        self.lock = threading.Lock()

    def begin(self, meta: Meta) -> None:
        with self.lock:
            self.group = self._name or visible(group_of(meta))
            self._info = {
                "collector": meta.collector.name,
                "target": meta.target.mode,
                "tool_version": meta.tool_version,
            }

    def write(self, snap: Snapshot) -> None:
        with self.lock:
            self._commands.update(snap.processes)
            self._run = Run(snap, self._commands, self._info)

    @property
    def run(self) -> Run | None:
        """The latest; read it under ``lock`` (the per-command totals change at each write)."""
        return self._run

    def metrics(self) -> list[Metric]:
        with self.lock:
            return [] if self._run is None else build(self._run, self.group)

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        if last is not None:
            self.write(last)
