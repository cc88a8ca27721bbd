"""The screen as a sink of the run loop."""

from __future__ import annotations

from textual.app import App

from denet_tui.messages import CollectorArmed, SnapshotTaken
from denet_tui.model import EMPTY_FINISHED, FinishedSummary, Meta, ProcessSample, Snapshot


class ScreenSink:
    """The screen as a sink: what the loop (in the collector thread) hands over is posted to
    the app as messages, handled in its own thread."""

    def __init__(self, app: App[None]) -> None:
        self._app = app

    def begin(self, meta: Meta) -> None:
        self._app.post_message(CollectorArmed(meta))

    def write(self, snap: Snapshot) -> None:
        self._app.post_message(SnapshotTaken(snap))

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        """The screen is gone by then."""
