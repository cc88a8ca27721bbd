"""Messages of the screen, named for what already happened."""

from __future__ import annotations

import threading

from textual.message import Message

from denet_tui.model import Meta, Snapshot


class CollectorArmed(Message):
    """The collector is armed on the target (and a ``run`` command let through its gate)."""

    def __init__(self, meta: Meta) -> None:
        super().__init__()
        self.meta = meta


class ArmingReady(Message):
    """The collector is ready and the command waits at its gate: may it run? Answered by
    setting ``go`` and then ``answered``, after every key pressed before it."""

    def __init__(self) -> None:
        super().__init__()
        self.go = True
        self.answered = threading.Event()


class ArmingFailed(Message):
    """The collector could not be armed (``reason``; None: the user quit meanwhile): the command
    never ran; the app leaves with ``code``."""

    def __init__(self, reason: str | None, code: int) -> None:
        super().__init__()
        self.reason = reason
        self.code = code


class SnapshotTaken(Message):
    """The collector produced a snapshot (posted from the collector thread). Each one is
    handled, none replaced by a newer one: a snapshot lists the processes that ended and the
    events of its interval only once (a replay hands out several in a few milliseconds)."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot


class CollectionFailed(Message):
    """The collector raised; the screen keeps the last figures and says why it stopped."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class CollectionEnded(Message):
    """No more snapshots will come (the target finished, time ran out, the recording ended)."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class FilterChanged(Message):
    """The user typed in the process filter, or closed it (``closed``: enter or esc)."""

    def __init__(self, text: str, *, closed: bool = False) -> None:
        super().__init__()
        self.text = text
        self.closed = closed
