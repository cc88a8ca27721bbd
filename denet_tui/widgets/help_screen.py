"""``?``: the keys, and what the figures mean (and where they are estimates)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("q ctrl+c", "quit (run: stops the command — SIGINT, SIGTERM, SIGKILL; attach: leaves it)"),
    ("p", "pause the view (collection and --record go on); in replay, pause the playback"),
    ("n", "replay only: step to the next snapshot"),
    ("e", "export the snapshot on screen to JSON (the event tabs' rows since the start)"),
    ("enter", "on a process: scope bars, table and sparklines to its subtree"),
    ("esc", "back to the whole tree"),
    ("s", "cycle the sort of the focused table (tree, syscalls, finished, time, files)"),
    ("f", "Files: only the paths with failures (the missing config file); Events: one family"),
    ("c", "Privileges: move between the capability checks and the calls"),
    ("/", "filter by text (esc clears): processes by name or command line; Files by path"),
    ("o", "show or hide the command's output"),
    ("↑ ↓ pgup pgdn", "move in the focused table or tree, a row or a page at a time"),
    ("home end", "the first or last row of the focused table (← → scroll a wide one)"),
    ("1 … 9 0 w d tab", "switch tabs (a tab shows when its probe family is on):"),
    ("", "1 Overview · 2 Syscalls (whole table) · 3 Finished (by command) · 4 Summary (time -v)"),
    ("", "5 Time (on CPU, waiting, asleep, D) · 6 Programs (every exec) · 7 Files (per path)"),
    ("", "8 Signals (who sent what to whom) · 9 Privileges (capabilities, privileged calls)"),
    ("", "0 Events (every family's events in time order, like ProcMon)"),
    ("", "w Network (each process's socket traffic) · d Disk (block requests, latency)"),
    ("space", "fold or unfold a process"),
    ("?", "this help"),
)

NOTES = (
    ("eBPF · exact", "every syscall counted in the kernel: counts, errors, time, latency."),
    (
        "/proc · sampled",
        "threads are sampled many times a second; shares marked ~ are estimates of where the "
        "tree waits in syscalls. Counts per syscall are not available (—). r/w calls/s are "
        "exact (/proc/PID/io syscr + syscw).",
    ),
    ("CPU %", "100 = one core, over the last interval."),
    ("P99", "from a log2 latency histogram, interpolated within its bucket (within 2×)."),
    ("—", "the collector does not give this figure here."),
)


def help_table() -> Table:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold cyan", no_wrap=True)
    t.add_column()
    t.add_row(Text("Keys", style="bold underline"), "")
    for k, what in KEYS:
        t.add_row(k, what)
    t.add_row("", "")
    t.add_row(Text("Figures", style="bold underline"), "")
    for k, what in NOTES:
        t.add_row(k, what)
    return t


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_table())

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "denet-tui help"
