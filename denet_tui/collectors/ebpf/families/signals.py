"""Family "signals": every signal sent to or from the tree, and each one its processes took
delivery of, as an event (``bpf/signals``; see ``events``). A sender or target outside the
tree is shown too, marked as such."""

from __future__ import annotations

from denet_tui.collectors.ebpf.families.events import EventFamily
from denet_tui.collectors.ebpf.layout import SIGNAL_SENT, RawSignalEvent
from denet_tui.model import SignalEvent
from denet_tui.rawtext import c_string
from denet_tui.signals import signal_name

# signal_generate's result (include/trace/events/signal.h).
RESULTS = ("delivered", "ignored", "already pending", "overflow", "info lost")
SIGKILL = 9
MAX_PENDING = 4096  # targets whose last signal sent is remembered (the oldest go first)
# What a signal's default action does (signal(7)); every other signal's ends the process.
DEFAULT_ACTIONS = {
    **dict.fromkeys(("SIGCHLD", "SIGURG", "SIGWINCH"), "ignored"),
    "SIGCONT": "continue",
    **dict.fromkeys(("SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU"), "stop"),
}


def action(handler: int, signal: str) -> str:
    """What taking ``signal`` does: its handler, ignored, or its default action."""
    if handler:
        return "ignored" if handler == 1 else "handler"
    return f"default: {DEFAULT_ACTIONS.get(signal, f'fatal {signal}')}"


class SignalsFamily(EventFamily):
    """A fatal signal is taken as SIGKILL (the kernel queues SIGKILL to every thread of a
    process a fatal signal ends): such a delivery names the signal sent to that process last
    and not taken since, which is the one that ended it."""

    name = "signals"
    source = "signals"
    ring = b"signal_events"
    field = "signals"
    lost = "signals_lost"
    raw = RawSignalEvent

    def __init__(self) -> None:
        super().__init__()
        self._pending: dict[int, str] = {}  # target pid -> the last signal queued to it

    def _taken(self, raw: RawSignalEvent) -> str:
        """A delivery's outcome: the action, and the fatal signal behind a SIGKILL."""
        cause = self._pending.pop(raw.target, None)
        if raw.sig == SIGKILL and cause:
            return f"default: fatal {cause}"
        return action(raw.handler, signal_name(raw.sig))

    def decode(self, raw: RawSignalEvent) -> SignalEvent:
        sent = raw.kind == SIGNAL_SENT
        outcome = RESULTS[raw.result] if 0 <= raw.result < len(RESULTS) else f"result {raw.result}"
        if sent and raw.result == 0:
            if len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[raw.target] = signal_name(raw.sig)
        return SignalEvent(
            ts=self.ts(raw.ns),
            kind="sent" if sent else "delivered",
            signal=signal_name(raw.sig),
            sender_pid=raw.sender or None,
            sender_name=c_string(bytes(raw.sender_comm)) or None,
            sender_in_tree=bool(raw.sender_serial) if sent else None,
            target_pid=raw.target,
            target_name=c_string(bytes(raw.target_comm)),
            target_in_tree=bool(raw.target_serial),
            outcome=outcome if sent else self._taken(raw),
            to_process=bool(raw.group) if sent else None,
        )
