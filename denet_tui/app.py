"""The full-screen app: a collector thread posts snapshots, the app hands them to the widgets.

Kept small on purpose: figures are computed in ``denet_tui.rates`` and drawn by the widgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Footer, Input, TabbedContent, TabPane, Tree
from textual.worker import Worker, get_current_worker

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.replay import ReplayCollector
from denet_tui.event_filter import Ancestry, EventFilter
from denet_tui.event_logs import BusyProcesses, EventTimeline, RunTables
from denet_tui.finished import FinishedLedger, ended_ledger
from denet_tui.messages import (
    ArmingFailed,
    ArmingReady,
    CollectionEnded,
    CollectionFailed,
    CollectorArmed,
    FilterChanged,
    SnapshotTaken,
)
from denet_tui.model import CollectorInfo, Meta, Snapshot
from denet_tui.output_paths import OutputError
from denet_tui.process_group import STOPPED
from denet_tui.pump import Pump
from denet_tui.rates import DeviceRates, Timeline, category_rates
from denet_tui.screen_sink import ScreenSink
from denet_tui.screen_tabs import LABELS, TabsMixin
from denet_tui.session import ArmingCancelled
from denet_tui.sinks.base import Sink
from denet_tui.sinks.export import write_export
from denet_tui.target import TargetError
from denet_tui.visible import visible
from denet_tui.widgets.category_bars import CategoryBars
from denet_tui.widgets.events_table import EventsTable
from denet_tui.widgets.files_table import FilesTable
from denet_tui.widgets.filter_bar import FilterBar
from denet_tui.widgets.finished_table import FinishedTable
from denet_tui.widgets.format import fmt_status
from denet_tui.widgets.help_screen import HelpScreen
from denet_tui.widgets.io_views import DiskView, NetworkView
from denet_tui.widgets.output_pane import OutputPane
from denet_tui.widgets.privileges_view import PrivilegesView
from denet_tui.widgets.process_header import ProcessHeader
from denet_tui.widgets.process_tree import ProcessTree, procs_title
from denet_tui.widgets.programs_table import ProgramsView
from denet_tui.widgets.redraw import set_border_title
from denet_tui.widgets.resource_sparklines import ResourceSparklines
from denet_tui.widgets.run_summary import RunSummaryView
from denet_tui.widgets.signals_table import SignalsTable
from denet_tui.widgets.status_header import HeaderState, Starting, StatusHeader
from denet_tui.widgets.syscall_table import SyscallTable
from denet_tui.widgets.time_view import TimeTab

if TYPE_CHECKING:
    from denet_tui.session import Session

DURATION_REACHED = "--duration reached"
END_OF_RECORDING = "end of recording"
EXIT_ARMING_FAILED = 2  # the collector could not be armed (the command never ran)
ANSWER_WAIT_S = 2.0  # how long the collector thread waits for the screen's go before the gate
QUIT_GRACE_S = 5.0  # after a quit, how long Textual may take to close before we finish alone
EXIT_QUIT_BEFORE_RUN = 130  # `run` quit while arming: the command never ran, as if interrupted


class DenetApp(TabsMixin, App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "denet-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),  # as in htop and top
        Binding("p", "pause", "Pause"),
        Binding("n", "step", "Step"),
        Binding("e", "export", "Export"),
        Binding("escape", "whole_tree", "Whole tree"),
        # (Priority: taken before the keys typed after it reach the focused table, so that a
        # pasted "/as" is the filter's "as"; not while a text field has the focus.)
        Binding("slash", "filter", "Filter", priority=True),
        Binding("o", "toggle_output", "Output"),
        Binding("question_mark", "help", "Help"),
        Binding("1", "show_tab('overview')", "Overview", show=False),
        Binding("2", "show_tab('syscalls')", "Syscalls", show=False),
        Binding("3", "show_tab('finished')", "Finished", show=False),
        Binding("4", "show_tab('summary')", "Summary", show=False),
        Binding("5", "show_tab('time')", "Time", show=False),
        Binding("6", "show_tab('programs')", "Programs", show=False),
        Binding("7", "show_tab('files')", "Files", show=False),
        Binding("8", "show_tab('signals')", "Signals", show=False),
        Binding("9", "show_tab('privileges')", "Privileges", show=False),
        Binding("0", "show_tab('events')", "Events", show=False),
        Binding("w", "show_tab('network')", "Network", show=False),
        Binding("d", "show_tab('disk')", "Disk", show=False),
        Binding("tab", "next_tab", "Next tab", show=False, priority=True),
    ]

    def __init__(self, session: Session, sinks: Sequence[Sink] = ()) -> None:
        super().__init__()
        self.session = session
        # The one run loop; the screen is one of its sinks, beside --record and --export.
        self.pump = Pump(session, [*sinks, ScreenSink(self)])
        # Where the figures also go (the metric outputs say it), for the header.
        self.outputs = " · ".join(w for s in sinks if (w := getattr(s, "where", None)))
        self.replay = isinstance(session.collector, ReplayCollector)
        self.exact = False
        self.collector_info = CollectorInfo("none", None, "")  # what it measures: once armed
        self.timeline = Timeline(exact=False, share_basis=None)  # until the collector is known
        self.finished = FinishedLedger()  # ended processes by command (made again once armed)
        if session.meta is not None:
            self._use_meta(session.meta)
        self.arming_failure: str | None = None  # why the collector could not be armed
        self.collection_error: str | None = None  # why the collector stopped early
        self.shown: Snapshot | None = (
            None  # the snapshot on screen (older than the latest when paused)
        )
        # The event families' rows since the start (the tabs', and the export's).
        self.tables = RunTables()
        self.device_rates = DeviceRates()
        self.busy = BusyProcesses()  # processes with socket or block traffic, ended ones too
        self.timeline_events = EventTimeline()  # every family's events in one order (Events tab)
        self.ancestry = Ancestry()  # who descends from whom: the scope of the event tabs
        self.paused = False
        self.note: str | None = None
        self.lost = threading.Event()  # the terminal is gone (SIGHUP, or a hung-up tty)
        self.collecting_done = threading.Event()
        self._stop: threading.Event | None = None  # the collector thread's stop
        self.quit_timer: threading.Timer | None = None  # cancelled once the screen has closed
        # The process is ours to end (run_tui): a lost terminal or a wedged quit may finish the
        # session and exit from a thread. Not under a test harness.
        self.own_process = False
        self._finish_lock = threading.Lock()
        self._finished_code: int | None = None
        self.arming = False  # the collector thread is arming (BCC may be compiling)
        self.quit_requested = False  # quit asked for while arming: leave once arming ends

    def _use_meta(self, meta: Meta) -> None:
        """What the collector measures decides what is shown (capabilities, not modes)."""
        info = meta.collector
        self.collector_info = info
        self.exact = info.has("syscalls", "exact")
        self.finished = ended_ledger(meta)
        self.timeline = Timeline(
            exact=self.exact,
            share_basis=info.share_basis,
            min_dt=meta.interval / 2,
            started=meta.target.mode == "run",
        )

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        s = self.session
        if s.meta is not None:
            yield StatusHeader(s.meta, id="status")
        else:  # arming: say so, with what is watched and no figures
            assert s.target is not None and s.plan is not None
            t = s.target
            yield StatusHeader(Starting(t.mode, t.cmd, t.pid, s.plan.description), id="status")
        with TabbedContent(id="tabs", initial="overview"):
            with TabPane(LABELS["overview"][0], id="overview"), Grid(id="main"):
                with Vertical(id="procs"):
                    yield ProcessHeader(id="tree-header")
                    yield ProcessTree(id="tree")
                with Vertical(id="sys"):
                    yield CategoryBars(id="bars")
                    yield SyscallTable(id="table")
                yield ResourceSparklines(id="sparks")
            # One tab per probe family with a view of its own, shown when the family is there.
            with TabPane(LABELS["syscalls"][0], id="syscalls"):
                yield SyscallTable(id="syscalls-table")
            with TabPane(LABELS["finished"][0], id="finished"):
                yield FinishedTable(id="finished-table")
            with TabPane(LABELS["summary"][0], id="summary"), VerticalScroll(id="summary-scroll"):
                yield RunSummaryView(id="summary-view")
            with TabPane(LABELS["time"][0], id="time"):
                yield TimeTab(id="time-tab")
            with TabPane(LABELS["programs"][0], id="programs"):
                yield ProgramsView(id="programs-view")
            with TabPane(LABELS["files"][0], id="files"):
                yield FilesTable(id="files-table")
            with TabPane(LABELS["signals"][0], id="signals"):
                yield SignalsTable(id="signals-table")
            with TabPane(LABELS["privileges"][0], id="privileges"):
                yield PrivilegesView(id="privileges-view")
            with TabPane(LABELS["events"][0], id="events"):
                yield EventsTable(id="events-table")
            with TabPane(LABELS["network"][0], id="network"):
                yield NetworkView(id="network-view")
            with TabPane(LABELS["disk"][0], id="disk"):
                yield DiskView(id="disk-view")
        yield OutputPane(self.session.output_log, id="output")
        yield FilterBar(id="filter")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#procs").border_title = procs_title(0, 0)
        self.query_one(ResourceSparklines).border_title = "resources · whole tree"
        self.query_one(ProcessHeader).collector = self.collector_info
        tree = self.query_one(ProcessTree)
        header = self.query_one(ProcessHeader)
        self.watch(tree, "sort_key", lambda key: setattr(header, "sort_key", key))
        tree.focus()
        self.query_one(FilterBar).display = False
        self.show_tabs()
        if self.session.output_log is None:  # nothing to show unless asked (`o`)
            self.query_one(OutputPane).display = False
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.action_quit)  # the same clean exit as `q`
        loop.add_signal_handler(signal.SIGHUP, self.terminal_lost)
        if self.session.armed:
            self.start_collecting()
        else:  # arm in a thread while the first frame is drawn (a BPF compile takes a second)
            self.arming = True
            self.screen.add_class("-arming")
            self.start_collecting()

    def on_unmount(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            asyncio.get_running_loop().remove_signal_handler(sig)
            # The screen is closing and we are about to stop the command: from here on, a
            # hang-up or a SIGTERM must not kill us before the recording and export are out.
            signal.signal(sig, lambda _sig, _frame: self.terminal_lost())

    def on_resize(self, event: events.Resize) -> None:
        # The event's size: the app's own may not have caught up with the terminal yet.
        self.screen.set_class(event.size.height >= 40, "-tall")
        self.screen.set_class(event.size.width >= 140, "-wide")
        self.label_tabs(event.size.width)

    # -- collection (a thread) ---------------------------------------------------------------

    def start_collecting(self) -> None:
        self.collect()

    @work(thread=True, exclusive=True, group="collector", exit_on_error=False)
    def collect(self) -> None:
        try:
            self._collect(get_current_worker())
        finally:
            self.collecting_done.set()

    def _collect(self, worker: Worker[None]) -> None:
        self._stop = worker.cancelled_event  # set by a quit, or by a lost terminal
        if self.lost.is_set() or not self._arm(worker):
            return
        try:
            ended = self.pump.run(self._stop)
        except (CollectorError, TargetError) as e:  # bad input or output, in its own words
            self.post_message(CollectionFailed(str(e)))
            return
        except Exception as e:  # the screen keeps the last figures and says why
            self.post_message(CollectionFailed(f"{type(e).__name__}: {e}"))
            return
        last = self.pump.last
        replay = self.session.collector
        if ended == "time_limit":
            self.post_message(CollectionEnded(DURATION_REACHED))
        elif ended is not None and isinstance(replay, ReplayCollector):
            reason = END_OF_RECORDING
            if replay.truncated_at is not None:
                reason += f" (line {replay.truncated_at} cut short: a truncated recording)"
            self.post_message(CollectionEnded(reason))
        elif ended is not None and last is not None:
            self.post_message(CollectionEnded(fmt_status(last.target)))

    def _arm(self, worker: Worker[None]) -> bool:
        """Arm the session's collector (the command runs from here on); say how it went."""
        try:
            # The sinks post CollectorArmed.
            self.pump.arm(cancelled=lambda: worker.is_cancelled, proceed=self._may_run)
        except ArmingCancelled:
            self.post_message(ArmingFailed(None, EXIT_QUIT_BEFORE_RUN))
            return False
        except (CollectorError, TargetError) as e:
            self.post_message(ArmingFailed(str(e), EXIT_ARMING_FAILED))
            return False
        except Exception as e:  # noqa: BLE001 - one line for the user, as the CLI does
            self.post_message(ArmingFailed(f"internal error: {type(e).__name__}: {e}", 1))
            return False
        return True

    # -- snapshots in, widgets out -----------------------------------------------------------

    def tab_meta(self) -> Meta | None:
        return self.session.meta

    def on_collector_armed(self, message: CollectorArmed) -> None:
        self.arming = False
        if self.quit_requested:
            self.exit()
            return
        self._use_meta(message.meta)
        self.query_one(ProcessHeader).collector = self.collector_info
        self.query_one(StatusHeader).armed(message.meta)
        self.show_tabs()
        self.screen.remove_class("-arming")

    def _may_run(self) -> bool:
        """In the collector thread, before the command leaves its gate: the screen's answer,
        given after the keys already pressed (q while loading eBPF: the command never runs)."""
        ready = ArmingReady()
        self.post_message(ready)
        ready.answered.wait(ANSWER_WAIT_S)  # a screen too busy to answer does not hold it up
        return ready.go and not self.quit_requested

    def on_arming_ready(self, message: ArmingReady) -> None:
        message.go = not self.quit_requested
        message.answered.set()

    def on_arming_failed(self, message: ArmingFailed) -> None:
        self.arming = False
        if message.reason is not None:
            self.arming_failure = message.reason  # printed by run_tui once the screen is gone
        self.exit(return_code=message.code)

    def on_snapshot_taken(self, message: SnapshotTaken) -> None:
        snap = message.snapshot
        self.timeline.add(snap)
        self.finished.add(snap)
        self.tables.add(snap)
        for log in (self.busy, self.timeline_events, self.ancestry):
            log.add(snap)
        self.device_rates.add(snap)
        # A snapshot that comes while the screen is being taken down: nothing to draw.
        with contextlib.suppress(NoMatches):
            if snap.target.finished:
                self.query_one(OutputPane).finish()
            if not self.paused or self.replay:
                self.show_latest()

    def on_collection_ended(self, message: CollectionEnded) -> None:
        if message.reason == DURATION_REACHED:
            self.exit()
            return
        if message.reason.startswith(END_OF_RECORDING):
            self.note = message.reason
            self._show_header()
        elif self.session.exit_on_finish:
            self.exit()

    def on_collection_failed(self, message: CollectionFailed) -> None:
        self.collection_error = message.error  # replay: printed at exit (bad input, exit 2)
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
            info = self.collector_info
            tree = self.query_one(ProcessTree)
            tree.show(snap.processes, tl.process_rates, collector=info)
            ended = snap.totals.processes_ended
            set_border_title(self.query_one("#procs"), procs_title(tree.ended_shown, ended))
            total_rate = None
            if now and before and now.total is not None and before.total is not None and dt > 0:
                total_rate = (now.total - before.total) / dt
            self.query_one(CategoryBars).show(
                now,
                category_rates(before, now, dt) if now else {},
                collector=info,
                total_rate=total_rate,
            )
            self.query_one("#table", SyscallTable).show(now, collector=info)
            active = self.query_one(TabbedContent).active
            t = self.tables  # the event families' rows since the start
            if active == "syscalls":
                self.query_one("#syscalls-table", SyscallTable).show(now, collector=info)
            elif active == "finished":
                self.query_one(FinishedTable).show(self.finished.summary(), tl.scope is not None)
            elif active == "programs":
                sampled = info.has("exec", "sampled")
                self.query_one(ProgramsView).show(t.programs, self.event_filter(), sampled)
            elif active == "files":
                sampled = info.has("files", "sampled")
                self.query_one(FilesTable).show(t.files, self.event_filter(), sampled)
            elif active == "signals":
                self.query_one(SignalsTable).show(t.signals, self.event_filter())
            elif active == "privileges":
                flt = self.event_filter()
                self.query_one(PrivilegesView).show(t.privileges, t.capabilities, flt)
            elif active == "events":
                self.query_one(EventsTable).show(self.timeline_events, self.event_filter())
            elif active == "network":
                view = self.query_one(NetworkView)
                sampled = info.has("network", "sampled")
                flt = self.event_filter()
                view.show(t.connections, self.busy, snap, tl.process_rates, flt, sampled)
            elif active == "disk":
                view = self.query_one(DiskView)
                flt = self.event_filter()
                view.show(t.disks, self.device_rates, self.busy, snap, tl.process_rates, flt)
            elif active == "summary":
                root = tl.process(snap.target.pid)  # (the snapshot lists it once ended)
                self.query_one(RunSummaryView).show(snap, info, tl.scope is not None, root)
            elif active == "time":
                pids = tl.scope_pids()
                # The live ones, and the latest that ended (kept longer than the tree does).
                listed = [*(p for p in snap.processes if p.alive), *self.finished.recent]
                procs = tuple(p for p in listed if pids is None or p.pid in pids)
                scope = "whole tree" if pids is None else f"subtree of {tl.scope}"
                interval = tl.series[-1] if len(tl.series) > 1 else None
                sampled = info is not None and info.has("sched", "sampled")
                self.query_one(TimeTab).show(
                    snap, interval, scope, procs, pids is not None, sampled=sampled
                )
            self.query_one(ResourceSparklines).show(tl.series, collector=info, extremes=tl.extremes)

    def _show_header(self) -> None:
        tl = self.timeline
        snap = self.shown if self.paused and not self.replay else tl.snapshot
        scope = None
        alive = [p for p in snap.processes if p.alive] if snap else []
        stopped = sum(p.state in STOPPED for p in alive)
        running = len(alive) - stopped
        if tl.scope is not None and snap is not None:
            p = tl.process(tl.scope)
            scope = f"{p.name if p else '?'} ({tl.scope})"
        self.query_one(StatusHeader).show(
            HeaderState(
                snapshot=tl.snapshot,
                replay=self.replay,
                paused=self.paused,
                scope=scope,
                running=running,
                stopped=stopped,
                exited=snap.totals.processes_ended if snap else 0,
                note=self.note,
                watching_rest=not self.session.exit_with_root,
                outputs=self.outputs,
            )
        )

    # -- scope and filter --------------------------------------------------------------------

    @on(Tree.NodeSelected, "#tree")
    def scope_to(self, event: Tree.NodeSelected[int]) -> None:
        self._set_scope(event.node.data)

    def action_whole_tree(self) -> None:
        """Esc: back to the whole tree; with no scope, clear the filter kept with Enter."""
        if self.timeline.scope is None and self.query_one(ProcessTree).filter_text:
            self.query_one(FilterBar).action_clear_filter()
            return
        self._set_scope(None)

    def _set_scope(self, pid: int | None) -> None:
        if pid == self.timeline.scope:
            return
        self.timeline.set_scope(pid)
        self.query_one(ProcessTree).scope = pid
        self.refresh_bindings()
        sparks = self.query_one(ResourceSparklines)
        set_border_title(
            sparks, "resources · whole tree" if pid is None else f"resources · subtree of {pid}"
        )
        self.show_latest()

    def event_filter(self) -> EventFilter:
        """The scope and filter of the process tree, for the event tabs."""
        text = self.query_one(ProcessTree).filter_text
        return EventFilter(text, self.timeline.scope, self.ancestry)

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()

    def on_filter_changed(self, message: FilterChanged) -> None:
        tree = self.query_one(ProcessTree)
        tree.filter_text = message.text
        self.show_latest()  # the event tabs follow the filter too
        if message.closed:
            self.focus_tab(self.query_one(TabbedContent).active)

    # -- the terminal went away --------------------------------------------------------------

    def terminal_lost(self) -> None:
        """SIGHUP, or a tty that hung up: nothing can be drawn or restored any more, and
        Textual's own shutdown may wait forever on writes to the dead terminal. So: stop
        collecting, finish (stop the command, write the recording and the export) in a thread
        of our own, and leave. Safe to call from any thread, more than once."""
        if self.lost.is_set():
            return
        self.lost.set()
        if self._stop is not None:
            self._stop.set()  # the collector thread stops within a poll
        threading.Thread(target=self._leave_without_terminal, name="denet-tui-hangup").start()

    def _leave_without_terminal(self) -> None:
        self.collecting_done.wait(2.0)  # the collector thread stops within a poll
        code = self.finish_session()
        if self.own_process:
            os._exit(code)

    def finish_session(self) -> int:
        """Stop what we started, close the sinks (the recording's end, the export); the exit
        status. Once: a second caller (the hang-up thread, or the main thread after it) waits
        for the first and gets the same answer."""
        with self._finish_lock:
            if self._finished_code is None:
                self._finished_code = self.pump.finish(announce=True)
            return self._finished_code

    # -- keys --------------------------------------------------------------------------------

    def action_quit(self) -> None:  # type: ignore[override]
        """Leave (``q``, ctrl+c, SIGTERM, SIGHUP). While the collector is being armed (BCC may
        be compiling, which no one can cut short): say so, and leave as soon as arming ends
        (the command never runs)."""
        if not self.arming:
            self.exit()
            if not self.own_process:
                return
            # Textual's shutdown waits for its input thread, which a dead terminal can wedge:
            # if we are not gone in a few seconds, finish without it.
            self.quit_timer = threading.Timer(QUIT_GRACE_S, self.terminal_lost)
            self.quit_timer.daemon = True
            self.quit_timer.start()
            return
        if not self.quit_requested:
            self.quit_requested = True
            self.workers.cancel_group(self, "collector")
            self.query_one(StatusHeader).quitting()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "show_tab":  # (while loading: remembered for when armed)
            return parameters[0] in self.shown_tabs() or self.tab_meta() is None
        if action == "filter":
            return not isinstance(self.focused, Input)
        if action == "step":
            return self.replay
        if action == "whole_tree":
            return self.timeline.scope is not None or bool(self.query_one(ProcessTree).filter_text)
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
            # The tables since the start (as the tabs show them), up to the latest snapshot.
            full = self.tables.since_start(snap)
            written = write_export(path, meta, full, self.finished.summary())
        except OutputError as e:
            self.notify(
                visible(str(e)),
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
