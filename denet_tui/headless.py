"""``--json``: the same collectors and snapshots, no screen — JSON lines to stdout or ``--out``."""

from __future__ import annotations

from denet_tui.pump import Pump, open_sinks
from denet_tui.session import Session
from denet_tui.signals import Interrupted, graceful_signals


def run_headless(session: Session, out: str | None) -> int:
    """Arm, then one JSON line per snapshot until the session is over; the exit status.

    A collector that cannot be armed raises CollectorError: the command never ran.
    """
    pump = Pump(session, open_sinks(session, out or "-"))
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
