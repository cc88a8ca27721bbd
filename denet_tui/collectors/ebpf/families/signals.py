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


def action(handler: int) -> str:
    return {0: "default", 1: "ignored"}.get(handler, "handler")


class SignalsFamily(EventFamily):
    name = "signals"
    source = "signals"
    ring = b"signal_events"
    field = "signals"
    lost = "signals_lost"
    raw = RawSignalEvent

    def decode(self, raw: RawSignalEvent) -> SignalEvent:
        sent = raw.kind == SIGNAL_SENT
        outcome = RESULTS[raw.result] if 0 <= raw.result < len(RESULTS) else f"result {raw.result}"
        return SignalEvent(
            ts=self.ts(raw.ns),
            kind="sent" if sent else "delivered",
            signal=signal_name(raw.sig),
            sender_pid=raw.sender or None,
            sender_name=c_string(bytes(raw.sender_comm)) or None,
            sender_in_tree=bool(raw.sender_serial),
            target_pid=raw.target,
            target_name=c_string(bytes(raw.target_comm)),
            target_in_tree=bool(raw.target_serial),
            outcome=outcome if sent else action(raw.handler),
            to_process=bool(raw.group) if sent else None,
        )
