"""``run``/``attach``/``replay`` with the screen: open the outputs, run the app, then finish the
session (stop the command, close the sinks) whatever way the screen ended."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

from rich.console import Console

from denet_tui.app import EXIT_ARMING_FAILED, EXIT_QUIT_BEFORE_RUN, DenetApp
from denet_tui.pump import open_sinks
from denet_tui.reports.commands import finish_outputs
from denet_tui.screen_fd import ScreenFd
from denet_tui.session import Session
from denet_tui.terminal_watch import is_terminal, watch_terminal
from denet_tui.visible import tell
from denet_tui.widgets.run_summary import summary_text


@contextlib.contextmanager
def _uninterrupted() -> Iterator[None]:
    """No signal may cut the end short: a closed terminal while "stopping…" would otherwise
    lose the end of the recording, the export, the report or the budgets' verdict."""
    quiet = (signal.SIGHUP, signal.SIGINT, signal.SIGTERM)
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in quiet}
    # Textual leaves its SIGCONT handler (it redraws the screen, which is gone); a hang-up
    # comes with a SIGCONT.
    saved[signal.SIGCONT] = signal.signal(signal.SIGCONT, signal.SIG_DFL)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def run_tui(session: Session, screen_fd: ScreenFd | None = None) -> int:
    """Run the screen until the user quits (or the command ends with ``--exit-on-finish``), then
    stop what we started, write the end of the recording and the export, and return the exit
    status to leave with.

    An unarmed session is armed by the screen's collector thread after the first frame. If that
    fails, the screen closes, the reason is printed (one line) and we leave with 2; the command
    never ran. Quitting before it is armed leaves ``run`` with 130 (the command never ran).

    ``screen_fd``: the screen's own descriptor of the terminal (made here if not given).
    """
    screen_fd = screen_fd or ScreenFd()
    held = contextlib.ExitStack()
    try:
        app = DenetApp(session, open_sinks(session, session.record_path))  # before the screen
        app.own_process = True
        # Textual's report of a crash, printed as the screen closes: where the screen was.
        app.error_console = Console(markup=False, highlight=False, file=screen_fd.terminal)
        stop_watch = threading.Event()
        if is_terminal(sys.stdin.fileno()):
            watch_terminal(sys.stdin.fileno(), app.terminal_lost, stop_watch)
        try:
            app.run()
        finally:
            stop_watch.set()
            if app.quit_timer is not None:
                app.quit_timer.cancel()  # the screen closed by itself
            held.enter_context(_uninterrupted())
            # Arming and loading end first, then fd 2 is the terminal's again (after a compile
            # under way: fd2.LOCK): what finishing says is seen. (Not from the hang-up thread:
            # the terminal is gone, and Textual may still be drawing on the screen's fd.)
            session.settle()
            screen_fd.close()
            code = app.finish_session()
        return _said_and_written(app, session, code)
    finally:  # (an error on the way: the same order, so that it is seen)
        try:
            session.settle()
        finally:
            screen_fd.close()
            held.close()


def _said_and_written(app: DenetApp, session: Session, code: int) -> int:
    """After the screen: why it ended early, or the summary, then the report and budgets; the
    exit status."""
    if app.arming_failure is not None:
        tell(app.arming_failure)
        return app.return_code or EXIT_ARMING_FAILED
    if app.replay and app.collection_error is not None:  # a recording bad from some line on
        tell(app.collection_error)
        return EXIT_ARMING_FAILED
    if not session.armed and session.target is not None and session.target.mode == "run":
        return EXIT_QUIT_BEFORE_RUN
    last = app.pump.last
    if last is not None and not app.replay:
        for line in summary_text(last, app.collector_info, app.pump.root):
            tell(line)
    return code if app.replay else finish_outputs(session, last, code)
