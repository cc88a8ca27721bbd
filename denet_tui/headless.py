"""``--json``: the same collectors and snapshots, no screen — JSON lines to stdout or ``--out``."""

from __future__ import annotations

from denet_tui.pump import Pump
from denet_tui.session import Session
from denet_tui.signals import Interrupted, graceful_signals
from denet_tui.sinks.base import Sink
from denet_tui.sinks.export import ExportSink
from denet_tui.sinks.jsonl import JsonLinesSink


def run_headless(session: Session, out: str | None) -> int:
    """Arm, then one JSON line per snapshot until the session is over; the exit status.

    A collector that cannot be armed raises CollectorError: the command never ran.
    """
    try:
        sinks: list[Sink] = [JsonLinesSink(out)]  # opened first: nothing runs if it fails
        if session.export_path:
            sinks.append(ExportSink(session.export_path))
    except BaseException:
        session.finish()
        raise
    pump = Pump(session, sinks)
    try:
        with graceful_signals():
            pump.arm()
            pump.run()
    except Interrupted:
        pump.ended_by = "quit"
    finally:
        code = pump.finish()
    attached = session.target is not None and session.target.mode == "attach"
    return 130 if attached and pump.ended_by == "quit" else code
