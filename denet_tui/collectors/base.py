"""The collector contract: plain Python, no Textual. One collector per data source."""

from __future__ import annotations

from typing import Protocol

from denet_tui.model import CollectorInfo, Snapshot
from denet_tui.target import Target


class CollectorError(Exception):
    """The collector cannot work here; the message is the one-line reason shown to the user."""


class Collector(Protocol):
    info: CollectorInfo

    def start(self, target: Target) -> None:
        """Arm on the target. In run mode this happens before ``target.release()``."""

    def sample(self) -> Snapshot:
        """Cumulative figures since start; safe to call once per interval from one thread."""

    def close(self) -> None:
        """Detach and free everything; idempotent, called on every exit path."""
