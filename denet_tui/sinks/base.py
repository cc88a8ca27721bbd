"""The sink protocol."""

from __future__ import annotations

from typing import Protocol

from denet_tui.model import EMPTY_FINISHED, FinishedSummary, Meta, ProcessSample, Snapshot


class Sink(Protocol):
    def begin(self, meta: Meta) -> None:
        """The collector is armed: what is watched, by what. Called once, before any write."""

    def write(self, snap: Snapshot) -> None:
        """One snapshot (cumulative figures), in order."""

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        """The session is over: its last snapshot (None if none was taken), why it ended,
        every process that ended, by command, and the root process as last listed (a snapshot
        lists an ended process once: ``model.latest_root``)."""
