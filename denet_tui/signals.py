"""Signals: their names, and SIGINT/SIGTERM/SIGHUP turned into one exception so every exit
path cleans up the same way."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


def signal_name(n: int) -> str:
    """``15`` -> ``"SIGTERM"``; a number with no name as ``"signal 64"``."""
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


def exit_text(code: int, killed_by: int | None) -> str:
    """An exit status: ``0``, ``2``; a process killed by signal N: 128+N (as a shell writes
    it) with the signal's name, ``143 SIGTERM`` (an ``exit(143)`` is ``143``)."""
    return f"{code} {signal_name(killed_by)}" if killed_by else str(code)


# A signal event's kind as the screen names it: a signal the target took (its delivery, the
# kernel's word) is "taken" in every tab alike.
KIND_LABEL = {"sent": "sent", "delivered": "taken"}


class Interrupted(Exception):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def graceful_signals() -> Iterator[None]:
    def handler(signum: int, _frame: object) -> None:
        raise Interrupted(signum)

    sigs = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    old = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
