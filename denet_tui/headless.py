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
    root_ended = False  # its final figures are taken at once, then the tree is paced as usual
    start = time.monotonic()
    try:
        with graceful_signals():
            next_at = start + session.interval
            while True:
                ending = not root_ended and target_finished(session)
                expired = session.expired(time.monotonic() - start)
                if ending or expired or time.monotonic() >= next_at:
                    last = collector.sample()
                    rec.write(last)
                    root_ended = root_ended or last.target.finished
                    next_at = max(next_at + session.interval, time.monotonic())
                    if expired or session.over(last):
                        break
                time.sleep(max(0.0, min(POLL_S, next_at - time.monotonic())))
    except Interrupted:
        session.ended_by = "quit"
    finally:
        code, final = session.conclude(last, announce=False)
        if final is not last and final is not None:
            rec.write(final)  # taken after stopping what still ran
        rec.close(final, session.ended_by)
        if session.export_path and final is not None:
            write_export(session.export_path, session.meta, final)
    attached = session.target is not None and session.target.mode == "attach"
    return 130 if attached and session.ended_by == "quit" else code


def target_finished(session: Session) -> bool:
    return session.target is not None and session.target.poll().finished
