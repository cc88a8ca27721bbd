"""Every key of the screen, driven with Pilot on the real app fed a real recording."""

from __future__ import annotations

import json

import pytest
from textual.widgets import DataTable, Input, Tree

from denet_tui.collectors.replay import ReplayCollector
from denet_tui.widgets.events_table import EventsTable
from denet_tui.widgets.filter_bar import FilterBar
from denet_tui.widgets.finished_table import FinishedTable
from denet_tui.widgets.help_screen import HelpScreen
from denet_tui.widgets.output_pane import OutputPane
from denet_tui.widgets.process_header import ProcessHeader
from denet_tui.widgets.process_rows import columns_for, make_row
from denet_tui.widgets.process_tree import ProcessTree
from denet_tui.widgets.resource_sparklines import ResourceSparklines
from denet_tui.widgets.run_summary import RunSummaryView
from denet_tui.widgets.status_header import StatusHeader
from denet_tui.widgets.syscall_table import SyscallTable
from denet_tui.widgets.time_view import SchedTable

from .feed import EBPF, TOUCH, feed, live_app, open_tab, replay_app, snapshots

SIZE = (120, 36)


def header(app) -> str:
    return app.query_one(StatusHeader).render().plain  # type: ignore[union-attr]


def tree_pids(tree: ProcessTree) -> list[int]:
    out: list[int] = []

    def walk(node) -> None:
        for child in node.children:
            out.append(child.data)
            walk(child)

    walk(tree.root)
    return out


async def test_q_quits() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 2)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0


async def test_p_pauses_the_view_while_collection_goes_on() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 2)
        await pilot.press("p")
        shown = app.shown
        assert "view paused, still collecting" in header(app)
        await feed(pilot, 4, start=2)  # collection goes on …
        assert app.timeline.snapshot is snapshots(app)[3]  # … the timeline has it …
        assert app.shown is shown  # … the screen does not
        await pilot.press("p")
        assert app.shown is snapshots(app)[3]
        assert "paused" not in header(app)


async def test_e_exports_the_snapshot_on_screen(tmp_path) -> None:
    out = tmp_path / "export.json"
    app = live_app(export_path=str(out))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await feed(pilot, 3)
        await pilot.press("e")
        await pilot.pause()
        data = json.loads(out.read_text())
        assert data["kind"] == "snapshot"
        assert data["t"] == snapshots(app)[2].t
        assert data["meta"]["target"]["pid"] == app.session.meta.pid
        (note,) = list(app._notifications)
        assert note.message == str(out)


async def test_enter_scopes_to_a_subtree_and_escape_goes_back() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        tree = app.query_one(ProcessTree)
        living = {p.pid for p in snapshots(app)[3].processes if p.alive}
        node = next(n for n in tree.root.children[0].children if n.data in living and n.children)
        tree.move_cursor(node)
        await pilot.press("enter")
        assert app.timeline.scope == node.data
        assert tree.scope == node.data
        assert f"({node.data}) subtree" in header(app)
        assert str(node.data) in str(app.query_one(ResourceSparklines).border_title)
        now, _, _ = app.timeline.syscalls()
        assert now is not app.timeline.snapshot.syscalls  # the subtree's own figures
        await pilot.press("escape")
        assert app.timeline.scope is None
        assert "whole tree" in header(app)


async def test_s_cycles_the_sort_of_the_focused_pane() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        tree = app.query_one(ProcessTree)
        await pilot.press("s")
        assert tree.sort_key == "cpu"
        assert app.query_one(ProcessHeader).sort_key == "cpu"
        rates = app.timeline.process_rates
        root = tree.root.children[0]
        living = [c.data for c in root.children if rates[c.data]["cpu_percent"] is not None]
        cpus = [rates[p]["cpu_percent"] for p in living]
        assert cpus == sorted(cpus, reverse=True)
        await pilot.press("tab")  # the Syscalls tab: its table has the focus
        table = app.query_one("#syscalls-table", SyscallTable)
        assert table.has_focus
        first = table.sort_key
        await pilot.press("s")
        assert table.sort_key != first
        names = [row.key.value for row in table.ordered_rows]
        assert names == sorted(names) if table.sort_key == "syscall" else True


async def test_slash_filters_processes_by_name() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        await pilot.press("slash")
        bar = app.query_one(FilterBar)
        assert bar.display and bar.query_one(Input).has_focus
        await pilot.press(*"unit3.")
        tree = app.query_one(ProcessTree)
        names = {p.pid: p.name for p in snapshots(app)[3].processes}
        shown = tree_pids(tree)
        assert sorted(names[p] for p in shown) == ["cc", "cc1", "make"]  # match + ancestors
        await pilot.press("enter")
        assert tree.has_focus and bar.display  # kept, visible while it applies
        await pilot.press("slash", "escape")
        assert not bar.display and tree.filter_text == ""
        assert len(tree_pids(tree)) > len(shown)


async def test_keys_right_after_slash_go_to_the_filter() -> None:
    # (A trial pasted "/as": the filter opened empty and the "s" re-sorted the tree: the keys
    # after "/" had reached the tree before the filter opened.)
    from textual import events

    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        tree = app.query_one(ProcessTree)
        sort = tree.sort_key
        for key, char in (("slash", "/"), ("a", "a"), ("s", "s")):  # at once, as a paste
            app.post_message(events.Key(key, char))
        await pilot.pause()
        await pilot.pause()
        field = app.query_one(FilterBar).query_one(Input)
        assert field.value == "as" and tree.sort_key == sort
        await pilot.press("slash", "u")  # "/" in the filter is text
        assert field.value == "as/u"


async def test_question_mark_shows_help() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_o_toggles_the_output_pane(tmp_path) -> None:
    log = tmp_path / "out.log"
    log.write_text("compiling unit1.c\n\x1b[31mwarning\x1b[0m: unused\n")
    app = live_app(output_log=str(log))
    async with app.run_test(size=(120, 50)) as pilot:
        pane = app.query_one(OutputPane)
        assert pane.display  # tall screen: shown
        pane.read_new()
        assert list(pane.lines) == ["compiling unit1.c", "warning: unused"]
        await pilot.press("o")
        assert not pane.display
        await pilot.press("o")
        assert pane.display


async def test_n_steps_a_paused_replay() -> None:
    app = replay_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        replay = app.session.collector
        assert isinstance(replay, ReplayCollector)
        await pilot.press("p")
        assert replay.paused
        before = app.timeline.snapshot
        await pilot.press("n")
        await pilot.press("n")
        after = app.timeline.snapshot
        assert after is not None and (before is None or after.t > before.t)
        assert "replay paused" in header(app)


async def test_step_is_not_offered_outside_replay() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.check_action("step", ()) is False
        assert app.check_action("whole_tree", ()) is False  # nothing to go back from


async def test_mouse_click_on_a_process_scopes_and_on_a_header_sorts() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        tree = app.query_one(ProcessTree)
        await pilot.click(ProcessTree, offset=(10, 0))  # the first line: make
        await pilot.pause()
        assert app.timeline.scope == tree.root.children[0].data
        table = app.query_one("#table", SyscallTable)  # the Overview's
        await pilot.click("#table", offset=(2, 1))  # the SYSCALL title, under the border
        assert table.sort_key == "syscall"
        # The figures' titles share one table column: the one under the click sorts. (After
        # SYSCALL's 18 cells, the figures' padding, EST.%TIME's 10 and the gap: HITS.)
        await pilot.click("#table", offset=(18 + 1 + 10 + 2 + 2, 1))
        assert table.sort_key == "hits"


async def test_tree_keeps_expansion_and_cursor_across_snapshots() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 2)
        tree = app.query_one(ProcessTree)
        first_cc = tree.root.children[0].children[0]
        tree.move_cursor(first_cc)
        first_cc.collapse()
        await pilot.pause()
        await feed(pilot, 4, start=2)
        node = next(n for n in tree.root.children[0].children if n.data == first_cc.data)
        assert not node.is_expanded
        assert tree.cursor_node is not None and tree.cursor_node.data == first_cc.data
        assert isinstance(tree, Tree)


async def test_every_line_on_screen_shows_the_latest_figures() -> None:
    app = live_app(EBPF)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 6)  # a dozen compilers just ended: listed once more
        tree = app.query_one(ProcessTree)
        await pilot.pause()
        latest = {p.pid: p for p in snapshots(app)[5].processes}
        checked = 0
        for y in range(tree.size.height):
            node = tree.get_node_at_line(y)
            if node is None:
                break
            line = "".join(seg.text for seg in tree.render_line(y))
            p = latest[node.data]
            assert f" {p.pid}" in line
            rates = app.timeline.process_rates.get(p.pid)
            every = columns_for(500, exact=True)
            row = make_row(p, rates, exact=True, matched=True, scoped=False, columns=every)
            assert line.rstrip().endswith(row.cells["calls"])
            checked += 1
        assert checked > 10


async def test_escape_on_the_tree_clears_a_kept_filter() -> None:
    app = live_app()
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 4)
        await pilot.press("slash", *"unit3.", "enter")
        tree = app.query_one(ProcessTree)
        assert tree.has_focus and tree.filter_text == "unit3."
        await pilot.press("escape")
        assert tree.filter_text == "" and not app.query_one(FilterBar).display


async def test_number_keys_and_tab_switch_tabs_and_scope_applies_to_each() -> None:
    from textual.widgets import TabbedContent

    app = live_app(EBPF)
    async with app.run_test(size=SIZE) as pilot:
        await feed(pilot, 6)  # a dozen compilers have ended
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "overview"
        await pilot.press("2")
        await pilot.pause()
        full = app.query_one("#syscalls-table", SyscallTable)
        assert tabs.active == "syscalls" and full.has_focus and full.row_count > 10
        whole = full.row_count
        await pilot.press("1")
        await pilot.pause()
        tree = app.query_one(ProcessTree)
        assert tabs.active == "overview" and tree.has_focus
        await pilot.click(ProcessTree, offset=(10, 3))  # a compiler's line: scope to it
        await pilot.pause()
        assert app.timeline.scope is not None
        await pilot.press("tab")
        await pilot.pause()
        assert tabs.active == "syscalls" and full.row_count < whole  # only the subtree's calls
        await pilot.press("tab")
        await pilot.pause()
        finished = app.query_one(FinishedTable)
        assert tabs.active == "finished" and finished.has_focus and finished.row_count >= 3
        # Its figures are the whole tree's, not the scope's: it says so.
        assert "not only the scope's" in str(finished.border_title)
        await pilot.press("tab")
        await pilot.pause()
        summary = app.query_one(RunSummaryView)
        assert tabs.active == "summary" and summary.has_focus  # it stays, from any tab
        assert "Maximum resident set size" in summary.plain
        assert "whole tree" in summary.plain.splitlines()[0]
        assert "not only the scope's" in summary.plain
        await pilot.press("tab")
        await pilot.pause()
        sched = app.query_one(SchedTable)
        # The Time tab follows the scope too: the compiler alone (and the processes under it).
        assert tabs.active == "time" and sched.has_focus and 1 <= sched.row_count < whole
        await pilot.press("tab")
        await pilot.pause()
        events = app.query_one(EventsTable)
        # The Events tab (every family's events; here the processes' ends) follows it too.
        assert tabs.active == "events" and events.has_focus
        ended_in_scope = events.row_count
        await pilot.press("escape")
        await pilot.pause()
        assert app.timeline.scope is None and events.row_count > ended_in_scope
        await pilot.press("tab")
        await pilot.pause()
        assert tabs.active == "overview"
        await pilot.press("3")
        await pilot.pause()
        await pilot.press("4")
        await pilot.pause()
        assert tabs.active == "summary"


async def test_a_collector_without_a_syscall_family_has_no_syscalls_tab() -> None:
    import dataclasses

    from textual.widgets import TabbedContent

    app = live_app()
    meta = app.session.meta
    assert meta is not None
    info = dataclasses.replace(meta.collector, syscalls=None, families={"none": "exact"})
    app.session.meta = dataclasses.replace(meta, collector=info)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "overview"
        await pilot.press("tab")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "finished"  # Syscalls is skipped


async def test_e_exports_the_event_tables_since_the_start(tmp_path) -> None:
    # A snapshot brings only its interval's execs, signals and changed paths: the export has
    # every one since the start, as the tabs show them (the last snapshot here has no exec).
    out = tmp_path / "export.json"
    app = live_app(TOUCH, export_path=str(out))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await feed(pilot)
        await pilot.press("e")
        await pilot.pause()
        data = json.loads(out.read_text())
    snaps = snapshots(app)
    assert not snaps[-1].execs
    assert len(data["execs"]) == sum(len(s.execs) for s in snaps) > 0
    assert len(data["signals"]) == sum(len(s.signals) for s in snaps) > 0
    assert len(data["privileges"]) == sum(len(s.privileges) for s in snaps) > 0
    keys = {(f.path, f.op, f.relative, f.joined) for s in snaps for f in s.files}
    assert len(data["files"]) == len(keys) > len(snaps[-1].files)
    assert data["t"] == snaps[-1].t


async def test_the_summary_scrolls_to_its_last_line_in_80x24() -> None:
    # (A trial could not see its last lines: Down, PgDn and End did nothing.)
    app = live_app(EBPF)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "4")
        assert app.query_one(RunSummaryView).has_focus
        pane = app.query_one("#summary-scroll")
        assert pane.max_scroll_y > 0  # too tall for the screen
        await pilot.press("end")
        await pilot.pause()
        assert pane.scroll_y == pane.max_scroll_y
        await pilot.press("home")
        await pilot.pause()
        assert pane.scroll_y == 0


@pytest.mark.parametrize("tab", ["2", "5"], ids=["syscalls", "time"])
async def test_a_new_sort_is_shown_from_its_top(tab: str) -> None:
    # (A trial, its cursor followed to the middle of the new order, took the sort for broken.)
    app = live_app(EBPF)
    async with app.run_test(size=(80, 24)) as pilot:
        await feed(pilot)
        await pilot.press(tab)
        table = app.query_one("#syscalls-table" if tab == "2" else "#sched-table")
        assert table.has_focus and table.row_count > 15
        await pilot.press(*["down"] * 30)
        await pilot.pause()
        assert table.scroll_y > 0
        await pilot.press("s")
        await pilot.pause()
        assert table.cursor_row == 0 and table.scroll_y == 0


async def test_the_time_tab_fits_80x24_without_a_cut_column() -> None:
    # (A trial read "5" in the SLEEP column: the column was cut at the table's edge, the
    # right-aligned 501.0ms read as another figure.)
    from denet_tui.widgets.fitted_log import fixed_width
    from denet_tui.widgets.time_view import COLUMNS, RunqHistogram

    app = live_app(EBPF)
    for size, histogram in (((80, 24), False), ((120, 36), True)):
        async with app.run_test(size=size) as pilot:
            await open_tab(pilot, "5")
            table = app.query_one(SchedTable)
            shown = tuple(
                (c.key.value, str(c.label).rstrip("▼"), c.width) for c in table.columns.values()
            )
            room = table.size.width - table.styles.scrollbar_size_vertical
            assert fixed_width(shown) <= room
            assert app.query_one(RunqHistogram).display is histogram
            if size == (120, 36):
                assert len(shown) == len(COLUMNS)  # every column, whole
        app = live_app(EBPF)


async def test_programs_sort_longest_first_and_show_the_whole_command() -> None:
    # "Which compile was slowest?": s sorts the execs by how long they ran; the command under
    # the cursor is shown whole below the table (it cuts long ones).
    from denet_tui.programs import command_text
    from denet_tui.widgets.programs_table import ProgramDetail, ProgramsTable

    app = live_app(TOUCH)
    async with app.run_test(size=SIZE) as pilot:
        await open_tab(pilot, "6")
        table = app.query_one(ProgramsTable)
        assert table.has_focus and table.row_count > 3
        await pilot.press("s")
        await pilot.pause()
        durations = [r.duration_s for r in table.programs if r.duration_s is not None]
        assert durations == sorted(durations, reverse=True) and table.cursor_row == 0
        assert "longest first" in str(table.border_title)
        detail = str(app.query_one(ProgramDetail).render())
        assert command_text(table.programs[0].event) in detail
        await pilot.press("down")
        await pilot.pause()
        assert command_text(table.programs[1].event) in str(app.query_one(ProgramDetail).render())
        # A filter that leaves no row: no command shown for a row no longer listed.
        await pilot.press("slash", *"zz-no-such-zz", "enter")
        await pilot.pause()
        assert table.row_count == 0 and str(app.query_one(ProgramDetail).render()) == ""


async def test_the_finished_tab_fits_80x24_without_a_cut_column() -> None:
    # (A trial read "2" for 2.01s in WALL MAX: the column cut at the table's edge.)
    from denet_tui.widgets.finished_table import COLUMNS

    for size in ((80, 24), (120, 36)):
        app = live_app(EBPF)
        async with app.run_test(size=size) as pilot:
            await open_tab(pilot, "3")
            table = app.query_one(FinishedTable)
            widths = [c.width for c in table.columns.values()]
            assert sum(widths) <= table.size.width - table.styles.scrollbar_size_vertical
            if size == (120, 36):
                assert len(widths) == len(COLUMNS)  # every column, whole
            else:
                assert {"CPU", "WALL MAX", "RSS MAX"} <= {
                    str(c.label).strip(" ▼") for c in table.columns.values()
                }
                # Sorted by a column left out to fit: the title says by what.
                await pilot.press("s", "s", "s")
                await pilot.pause()
                assert "sorted by wall (s)" in str(table.border_title)


@pytest.mark.parametrize("tab", ["3", "6", "7"], ids=["finished", "programs", "files"])
async def test_home_and_end_go_to_the_first_and_last_row(tab: str) -> None:
    # (A trial pressed End in Programs: the table scrolled to the right edge of its longest
    # command line, and the screen showed nothing.)
    app = live_app(TOUCH if tab != "3" else EBPF)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, tab)
        table = app.focused
        assert isinstance(table, DataTable) and table.row_count > 1
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == table.row_count - 1
        assert table.scroll_x == 0
        await pilot.press("home")
        await pilot.pause()
        assert (table.cursor_row, table.scroll_x, table.scroll_y) == (0, 0, 0)


async def test_a_row_whose_command_grows_the_pane_below_stays_in_view() -> None:
    # (A trial pressed End at 80x24: the pane below the table grew to the last command's 8
    # lines and the selected row was left below the table's edge.)
    from denet_tui.widgets.programs_table import ProgramDetail, ProgramsTable

    app = live_app(TOUCH)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "6")
        table = app.query_one(ProgramsTable)
        await pilot.press("end", "up")  # onto the script's `python3 -c '...'`, many lines
        await pilot.pause()
        await pilot.pause()
        assert app.query_one(ProgramDetail).size.height > 3
        rows = table.scrollable_content_region.height - 1  # (its header)
        assert table.cursor_row == table.row_count - 2
        assert table.scroll_y <= table.cursor_row < table.scroll_y + rows
        cell = table.get_row_at(table.cursor_row)[-1]
        width = table.columns[table.ordered_columns[-1].key].width
        assert width < len(cell.plain) and cell.overflow == "ellipsis"  # cut, and marked "…"


async def test_the_files_tab_keeps_room_for_paths_at_80_columns() -> None:
    # (A trial at 80 columns: 21 cells of path, three locales' gcc-12.mo read the same.)
    from denet_tui.widgets.files_table import FilesTable

    app = live_app(TOUCH)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "7")
        table = app.query_one(FilesTable)
        assert table.columns[table.ordered_columns[-1].key].width >= 28


async def test_the_files_tab_sorted_by_last_call_shows_when_that_was() -> None:
    # (A trial: sorted by "last call", no time column at 80, 100 or 120 columns.)
    from denet_tui.widgets.files_table import FilesTable

    app = live_app(TOUCH)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tab(pilot, "7")
        table = app.query_one(FilesTable)
        assert "last" not in [c.key.value for c in table.ordered_columns]  # (room for paths)
        while table.sort_key != "last":
            await pilot.press("s")
            await pilot.pause()
        assert "last" in [c.key.value for c in table.ordered_columns]
