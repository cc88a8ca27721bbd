"""The full-screen app: a collector thread posts snapshots, the app hands them to the widgets.

Kept small on purpose: figures are computed in ``denet_tui.rates`` and drawn by the widgets.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Tree
from textual.worker import Worker, get_current_worker

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.replay import ReplayCollector
from denet_tui.messages import (
    ArmingFailed,
    CollectionEnded,
    CollectionFailed,
    CollectorArmed,
    FilterChanged,
    SnapshotTaken,
)
from denet_tui.model import Meta, Snapshot
from denet_tui.pump import Pump
from denet_tui.rates import Timeline, category_rates
from denet_tui.session import ArmingCancelled
from denet_tui.sinks.base import Sink
from denet_tui.sinks.export import ExportSink, write_export
from denet_tui.sinks.jsonl import JsonLinesSink
from denet_tui.visible import tell, visible
from denet_tui.widgets.category_bars import CategoryBars
from denet_tui.widgets.filter_bar import FilterBar
from denet_tui.widgets.format import fmt_status
from denet_tui.widgets.help_screen import HelpScreen
from denet_tui.widgets.output_pane import OutputPane
from denet_tui.widgets.process_header import ProcessHeader
from denet_tui.widgets.process_tree import ProcessTree
from denet_tui.widgets.resource_sparklines import ResourceSparklines
from denet_tui.widgets.status_header import HeaderState, Starting, StatusHeader
from denet_tui.widgets.syscall_table import SyscallTable

if TYPE_CHECKING:
    from denet_tui.session import Session

DURATION_REACHED = "--duration reached"
END_OF_RECORDING = "end of recording"
EXIT_ARMING_FAILED = 2  # the collector could not be armed (the command never ran)
EXIT_QUIT_BEFORE_RUN = 130  # `run` quit while arming: the command never ran, as if interrupted


class ScreenSink:
    """The screen as a sink: what the loop (in the collector thread) hands over is posted to
    the app as messages, handled in its own thread."""

    def __init__(self, app: App[None]) -> None:
        self._app = app

    def begin(self, meta: Meta) -> None:
        self._app.post_message(CollectorArmed(meta))

    def write(self, snap: Snapshot) -> None:
        self._app.post_message(SnapshotTaken(snap))

    def close(self, last: Snapshot | None, ended_by: str) -> None:
        """The screen is gone by then."""


class DenetApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "denet-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),  # as in htop and top
        Binding("p", "pause", "Pause"),
        Binding("n", "step", "Step"),
        Binding("e", "export", "Export"),
        Binding("escape", "whole_tree", "Whole tree"),
        Binding("slash", "filter", "Filter"),
        Binding("o", "toggle_output", "Output"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session: Session, sinks: Sequence[Sink] = ()) -> None:
        super().__init__()
        self.session = session
        # The one run loop; the screen is one of its sinks, beside --record and --export.
        self.pump = Pump(session, [*sinks, ScreenSink(self)])
        self.replay = isinstance(session.collector, ReplayCollector)
        self.exact = False
        self.timeline = Timeline(exact=False, share_basis=None)  # until the collector is known
        if session.meta is not None:
            self._use_meta(session.meta)
        self.arming_failure: str | None = None  # why the collector could not be armed
        self.shown: Snapshot | None = (
            None  # the snapshot on screen (older than the latest when paused)
        )
        self.paused = False
        self.note: str | None = None
        self.arming = False  # the collector thread is arming (BCC may be compiling)
        self.quit_requested = False  # quit asked for while arming: leave once arming ends

    def _use_meta(self, meta: Meta) -> None:
        info = meta.collector
        self.exact = info.syscalls == "exact"
        self.timeline = Timeline(exact=self.exact, share_basis=info.share_basis)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.session
        if s.meta is not None:
            yield StatusHeader(s.meta, id="status")
        else:  # arming: say so, with what is watched and no figures
            assert s.target is not None and s.plan is not None
            t = s.target
            yield StatusHeader(Starting(t.mode, t.cmd, t.pid, s.plan.description), id="status")
        with Grid(id="main"):
            with Vertical(id="procs"):
                yield ProcessHeader(id="tree-header")
                yield ProcessTree(id="tree")
            with Vertical(id="sys"):
                yield CategoryBars(id="bars")
                yield SyscallTable(id="table")
            yield ResourceSparklines(id="sparks")
        yield OutputPane(self.session.output_log, id="output")
        yield FilterBar(id="filter")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#procs").border_title = "processes"
        self.query_one(ResourceSparklines).border_title = "resources · whole tree"
        self.query_one(ProcessHeader).exact = self.exact
        tree = self.query_one(ProcessTree)
        header = self.query_one(ProcessHeader)
        self.watch(tree, "sort_key", lambda key: setattr(header, "sort_key", key))
        tree.focus()
        self.query_one(FilterBar).display = False
        if self.session.output_log is None:  # nothing to show unless asked (`o`)
            self.query_one(OutputPane).display = False
        for sig in (signal.SIGTERM, signal.SIGHUP):  # same clean exit as `q`
            asyncio.get_running_loop().add_signal_handler(sig, self.action_quit)
        if self.session.armed:
            self.start_collecting()
        else:  # the first frame first, then arm (a BPF compile takes a second or more)
            self.arming = True
            self.screen.add_class("-arming")
            self.call_after_refresh(self.start_collecting)

    def on_unmount(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            asyncio.get_running_loop().remove_signal_handler(sig)

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: the app's own may not have caught up with the terminal yet.
        self.screen.set_class(event.size.height >= 40, "-tall")
        self.screen.set_class(event.size.width >= 140, "-wide")

    # -- collection (a thread) ---------------------------------------------------------------

    def start_collecting(self) -> None:
        self.collect()

    @work(thread=True, exclusive=True, group="collector", exit_on_error=False)
    def collect(self) -> None:
        worker = get_current_worker()
        if not self._arm(worker):
            return
        try:
            ended = self.pump.run(worker.cancelled_event)
        except Exception as e:  # the screen keeps the last figures and says why
            self.post_message(CollectionFailed(f"{type(e).__name__}: {e}"))
            return
        last = self.pump.last
        if ended == "time_limit":
            self.post_message(CollectionEnded(DURATION_REACHED))
        elif ended is not None and self.replay:
            self.post_message(CollectionEnded(END_OF_RECORDING))
        elif ended is not None and last is not None:
            self.post_message(CollectionEnded(fmt_status(last.target)))

    def _arm(self, worker: Worker[None]) -> bool:
        """Arm the session's collector (the command runs from here on); say how it went."""
        try:
            self.pump.arm(cancelled=lambda: worker.is_cancelled)  # the sinks post CollectorArmed
        except ArmingCancelled:
            self.post_message(ArmingFailed(None, EXIT_QUIT_BEFORE_RUN))
            return False
        except CollectorError as e:
            self.post_message(ArmingFailed(str(e), EXIT_ARMING_FAILED))
            return False
        except Exception as e:  # noqa: BLE001 - one line for the user, as the CLI does
            self.post_message(ArmingFailed(f"internal error: {type(e).__name__}: {e}", 1))
            return False
        return True

    # -- snapshots in, widgets out -----------------------------------------------------------

    def on_collector_armed(self, message: CollectorArmed) -> None:
        self.arming = False
        if self.quit_requested:
            self.exit()
            return
        self._use_meta(message.meta)
        self.query_one(ProcessHeader).exact = self.exact
        self.query_one(StatusHeader).armed(message.meta)
        self.screen.remove_class("-arming")
        # BCC's compile hid fd 2, where the screen is drawn: draw all of it again.
        self.refresh(layout=True)

    def on_arming_failed(self, message: ArmingFailed) -> None:
        self.arming = False
        if message.reason is not None:
            self.arming_failure = message.reason  # printed by run_tui once the screen is gone
        self.exit(return_code=message.code)

    def on_snapshot_taken(self, message: SnapshotTaken) -> None:
        snap = message.snapshot
        self.timeline.add(snap)
        if snap.target.finished:
            self.query_one(OutputPane).finish()
        if self.paused and not self.replay:
            return
        self.show_latest()

    def on_collection_ended(self, message: CollectionEnded) -> None:
        if message.reason == DURATION_REACHED:
            self.exit()
            return
        if message.reason == END_OF_RECORDING:
            self.note = END_OF_RECORDING
            self._show_header()
        elif self.session.exit_on_finish:
            self.exit()

    def on_collection_failed(self, message: CollectionFailed) -> None:
        self.note = f"collector stopped: {message.error}"
        self._show_header()
        self.notify(
            visible(message.error), title="collector stopped", severity="error", markup=False
        )

    def show_latest(self) -> None:
        tl = self.timeline
        snap = tl.snapshot
        if snap is None:
            return
        self.shown = snap
        now, before, dt = tl.syscalls()
        with self.batch_update():
            self._show_header()
            self.query_one(ProcessTree).show(snap.processes, tl.process_rates, exact=self.exact)
            total_rate = None
            if now and before and now.total is not None and before.total is not None and dt > 0:
                total_rate = (now.total - before.total) / dt
            self.query_one(CategoryBars).show(
                now,
                category_rates(before, now, dt) if now else {},
                exact=self.exact,
                total_rate=total_rate,
            )
            self.query_one(SyscallTable).show(now, exact=self.exact)
            self.query_one(ResourceSparklines).show(
                tl.series, exact=self.exact, extremes=tl.extremes
            )

    def _show_header(self) -> None:
        tl = self.timeline
        snap = self.shown if self.paused and not self.replay else tl.snapshot
        scope = None
        running = sum(p.alive for p in snap.processes) if snap else 0
        if tl.scope is not None and snap is not None:
            p = snap.process(tl.scope)
            scope = f"{p.name if p else '?'} ({tl.scope})"
        self.query_one(StatusHeader).show(
            HeaderState(
                snapshot=tl.snapshot,
                replay=self.replay,
                paused=self.paused,
                scope=scope,
                running=running,
                exited=len(snap.processes) - running if snap else 0,
                note=self.note,
                watching_rest=not self.session.exit_with_root,
            )
        )

    # -- scope and filter --------------------------------------------------------------------

    @on(Tree.NodeSelected, "#tree")
    def scope_to(self, event: Tree.NodeSelected[int]) -> None:
        self._set_scope(event.node.data)

    def action_whole_tree(self) -> None:
        self._set_scope(None)

    def _set_scope(self, pid: int | None) -> None:
        if pid == self.timeline.scope:
            return
        self.timeline.set_scope(pid)
        self.query_one(ProcessTree).scope = pid
        self.refresh_bindings()
        sparks = self.query_one(ResourceSparklines)
        if pid is None:
            sparks.border_title = "resources · whole tree"
        else:
            sparks.border_title = f"resources · subtree of {pid}"
        self.show_latest()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_changed(self, message: FilterChanged) -> None:
        tree = self.query_one(ProcessTree)
        tree.filter_text = message.text
        if message.closed:
            tree.focus()

    # -- keys --------------------------------------------------------------------------------

    def action_quit(self) -> None:  # type: ignore[override]
        """Leave (``q``, ctrl+c, SIGTERM, SIGHUP). While the collector is being armed, BCC's
        compile has the terminal's fd 2 redirected, so the screen could not be restored: say so,
        and leave as soon as arming ends (the command never runs)."""
        if not self.arming:
            self.exit()
            return
        if not self.quit_requested:
            self.quit_requested = True
            self.workers.cancel_group(self, "collector")
            self.query_one(StatusHeader).quitting()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step":
            return self.replay
        if action == "whole_tree":
            return self.timeline.scope is not None
        return True

    def action_pause(self) -> None:
        self.paused = not self.paused
        if isinstance(self.session.collector, ReplayCollector):
            self.session.collector.set_paused(self.paused)
        if self.paused:
            self._show_header()
        else:
            self.show_latest()

    def action_step(self) -> None:
        if not isinstance(self.session.collector, ReplayCollector):
            return
        if not self.paused:
            self.action_pause()
        snap = self.session.collector.step()
        if snap is not None:
            self.pump.deliver(snap)

    def action_export(self) -> None:
        snap = self.shown
        if snap is None:
            self.notify("nothing to export yet", severity="warning")
            return
        meta = self.session.meta
        assert meta is not None  # a snapshot is shown, so the collector is armed
        path = self.session.export_path or f"denet-tui-{meta.pid}-{snap.t:.0f}s.json"
        try:
            written = write_export(path, meta, snap)
        except OSError as e:
            self.notify(
                visible(f"{path}: {e.strerror}"),
                title="export failed",
                severity="error",
                markup=False,
            )
            return
        self.notify(visible(written), title=f"exported snapshot t={snap.t:.1f}s", markup=False)

    def action_toggle_output(self) -> None:
        pane = self.query_one(OutputPane)
        pane.display = not pane.display

    def action_help(self) -> None:
        self.push_screen(HelpScreen())


def run_tui(session: Session) -> int:
    """Run the screen until the user quits (or the command ends with ``--exit-on-finish``), then
    stop what we started, write the end of the recording and the export, and return the exit
    status to leave with.

    An unarmed session is armed by the screen's collector thread after the first frame. If that
    fails, the screen closes, the reason is printed (one line) and we leave with 2; the command
    never ran. Quitting before it is armed leaves ``run`` with 130 (the command never ran).
    """
    try:  # opened now, so a bad path fails before the screen; its meta line comes once armed
        sinks: list[Sink] = [JsonLinesSink(session.record_path)] if session.record_path else []
        if session.export_path:
            sinks.append(ExportSink(session.export_path))
    except BaseException:
        session.finish()
        raise
    app = DenetApp(session, sinks)
    try:
        app.run()
    finally:
        code = app.pump.finish(announce=True)
    if app.arming_failure is not None:
        tell(app.arming_failure)
        return app.return_code or EXIT_ARMING_FAILED
    if not session.armed and session.target is not None and session.target.mode == "run":
        return EXIT_QUIT_BEFORE_RUN
    return code
