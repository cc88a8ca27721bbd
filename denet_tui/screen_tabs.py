"""The screen's tabs: the Overview, one per probe family with a view of its own (shown only
when that family is there), Finished (ended processes by command, from every collector) and
Summary (the tree's totals, as /usr/bin/time -v lists them).
Number keys and Tab switch; the scope, filter and pause apply to every tab."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import TabbedContent

from denet_tui.model import Meta
from denet_tui.widgets.files_table import FilesTable
from denet_tui.widgets.finished_table import FinishedTable
from denet_tui.widgets.process_tree import ProcessTree
from denet_tui.widgets.programs_table import ProgramsTable
from denet_tui.widgets.run_summary import RunSummaryView
from denet_tui.widgets.signals_table import SignalsTable
from denet_tui.widgets.time_view import SchedTable

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

# Tab id -> the probe family it needs (None: always there). In the order of their number keys.
TABS: dict[str, str | None] = {
    "overview": None,
    "syscalls": "syscalls",
    "finished": None,
    "summary": None,
    "time": "sched",
    "programs": "exec",
    "files": "files",
    "signals": "signals",
    "privileges": "privileges",
    "events": None,
    "network": "network",
    "disk": "disk",
}


# Tab id -> (its label, its label in fewer than WIDE_TABS columns: every tab in 80).
LABELS: dict[str, tuple[str, str]] = {
    "overview": ("1 Overview", "1 Main"),
    "syscalls": ("2 Syscalls", "2 Sys"),
    "finished": ("3 Finished", "3 Done"),
    "summary": ("4 Summary", "4 Sum"),
    "time": ("5 Time", "5 Time"),
    "programs": ("6 Programs", "6 Prog"),
    "files": ("7 Files", "7 File"),
    "signals": ("8 Signals", "8 Sig"),
    "privileges": ("9 Privileges", "9 Priv"),
    "events": ("0 Events", "0 Evt"),
    "network": ("w Network", "w Net"),
    "disk": ("d Disk", "d Disk"),
}
WIDE_TABS = 118  # columns the full labels take, a cell after each


def tab_labels(width: int) -> dict[str, str]:
    """Each tab's label for a screen ``width`` columns wide."""
    short = width < WIDE_TABS
    return {tab: pair[short] for tab, pair in LABELS.items()}


# Tab id -> the widget that takes the keys there (the Overview: the process tree).
FOCUS: dict[str, type | str] = {
    "syscalls": "#syscalls-table",
    "finished": FinishedTable,
    "time": SchedTable,
    "programs": ProgramsTable,
    "files": FilesTable,
    "signals": SignalsTable,
    "privileges": "#privileged-calls-table",
    "events": "#events-table",
    "network": "#network-conns",
    "disk": "#disk-devices",
    "summary": RunSummaryView,
}


class TabsMixin(_Base):
    _wanted_tab: str | None = None  # asked for before the collector said it has it
    _short_labels = False  # the labels shown are the short ones (composed: the full ones)

    def tab_meta(self) -> Meta | None:
        raise NotImplementedError

    def shown_tabs(self) -> list[str]:
        meta = self.tab_meta()
        return [
            tab
            for tab, family in TABS.items()
            if family is None or (meta is not None and meta.collector.has(family))
        ]

    def show_tabs(self) -> None:
        """A family's tab only when that family is there."""
        tabs = self.query_one(TabbedContent)
        shown = self.shown_tabs()
        for tab in TABS:
            if tab in shown:
                tabs.show_tab(tab)
            else:
                tabs.hide_tab(tab)
        wanted, self._wanted_tab = self._wanted_tab, None
        if wanted in shown:  # (a key pressed while the program was loading)
            tabs.active = wanted

    def label_tabs(self, width: int) -> None:
        short = width < WIDE_TABS
        if short == self._short_labels:
            return  # (as they are: a resize sets them again only across WIDE_TABS)
        self._short_labels = short
        tabs = self.query_one(TabbedContent)
        for tab, label in tab_labels(width).items():
            tabs.get_tab(tab).label = label

    def action_show_tab(self, tab: str) -> None:
        if tab in self.shown_tabs():
            self.query_one(TabbedContent).active = tab
        elif self.tab_meta() is None:
            self._wanted_tab = tab  # shown once armed, if its family is there

    def action_next_tab(self) -> None:
        tabs = self.query_one(TabbedContent)
        shown = self.shown_tabs()
        tabs.active = shown[(shown.index(tabs.active) + 1) % len(shown)]

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.show_latest()  # filled first: a focused table's cursor follows its row
        self.focus_tab(event.pane.id)

    def focus_tab(self, tab: str | None) -> None:
        """The keys to the tab's own table. Focus stays in the tab shown: focusing the tree from
        another tab would switch back to the Overview."""
        self.query_one(FOCUS.get(tab or "", ProcessTree)).focus()

    def show_latest(self) -> None:
        raise NotImplementedError
