"""``--json``: the same collectors and snapshots, no screen — JSON lines to stdout or ``--out``."""

from __future__ import annotations

import time

from denet_tui.model import Snapshot
from denet_tui.recorder import Recorder, write_export
from denet_tui.session import Session
from denet_tui.signals import Interrupted, graceful_signals

POLL_S = 0.05  # how often we look for the target's end between samples, so the end is prompt


def run_headless(session: Session, out: str | None) -> int:
    """Arm, write meta, one snapshot per interval, then end; return the exit status to leave with.

    A collector that cannot be armed raises CollectorError; a bad ``out`` raises OSError. Either
    way the command never ran.
    """
    try:
        rec = Recorder(out, None)  # opened first: a bad path fails before the command runs
        session.arm()
    except BaseException:
        session.finish()
        raise
    assert session.meta is not None and session.collector is not None
    collector = session.collector
    rec.begin(session.meta)
    last: Snapshot | None = None
    interrupted = False
    start = time.monotonic()
    try:
        with graceful_signals():
            next_at = start + session.interval
            while True:
                done = session.target is not None and session.target.poll().finished
                expired = (
                    session.duration is not None and time.monotonic() - start >= session.duration
                )
                if done or expired or time.monotonic() >= next_at:
                    last = collector.sample()
                    rec.write(last)
                    next_at += session.interval
                    if done or expired or last.target.finished:
                        break
                time.sleep(max(0.0, min(POLL_S, next_at - time.monotonic())))
    except Interrupted:
        interrupted = True
    finally:
        target = session.target
        if target is not None and target.mode == "run" and not target.poll().finished:
            target.stop()
            # The final figures, taken after the command ended (its zombie is still readable).
            last = collector.sample()
            rec.write(last)
        code = session.finish()
        rec.close(last)
        if session.export_path and last is not None:
            write_export(session.export_path, session.meta, last)
    if session.target is not None and session.target.mode == "attach" and interrupted:
        return 130
    return code
