"""``--json``: the same collectors and snapshots, no screen — JSON lines to stdout or ``--out``."""

from __future__ import annotations

import contextlib
import time

from denet_tui.pump import Pump, open_sinks
from denet_tui.reports.commands import finish_outputs
from denet_tui.session import Session
from denet_tui.signals import Interrupted, graceful_signals


def run_headless(session: Session, out: str | None) -> int:
    """Arm, then one JSON line per snapshot until the session is over; the exit status (after
    ``--report`` and ``--budget``). With ``--linger``, the Prometheus endpoint serves the last
    figures that much longer (a signal ends that wait at once).

    A collector that cannot be armed raises CollectorError: the command never ran.
    """
    sinks = open_sinks(session, out or "-")
    pump = Pump(session, sinks)
    try:
        with graceful_signals():
            pump.arm()
            pump.run()
    except Interrupted:
        pump.ended_by = "quit"
    finally:
        code = pump.finish()
    code = finish_outputs(session, pump.last, code)
    if session.linger and pump.ended_by != "quit":
        with contextlib.suppress(Interrupted), graceful_signals():
            time.sleep(session.linger)
    for sink in sinks:
        stop = getattr(sink, "stop", None)
        if stop is not None:
            stop()
    attached = session.target is not None and session.target.mode == "attach"
    return 130 if attached and pump.ended_by == "quit" else code
