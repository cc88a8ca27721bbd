"""Pure render helpers of the widgets, checked without an app."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from rich.text import Text

from denet_tui.model import (
    CategoryStat,
    CollectorInfo,
    Meta,
    ProcessSample,
    Snapshot,
    SyscallStat,
    SyscallSummary,
    TargetStatus,
    TreeTotals,
    Watched,
)
from denet_tui.rates import Rates
from denet_tui.visible import visible as visible_text
from denet_tui.widgets.category_bars import bar, bars_text, title
from denet_tui.widgets.format import (
    collector_label,
    fmt_bytes,
    fmt_count,
    fmt_cpu_time,
    fmt_elapsed,
    fmt_int,
    fmt_ns,
    fmt_percent,
    fmt_status,
)
from denet_tui.widgets.output_pane import LogTail, clean_line
from denet_tui.widgets.process_rows import NAME_MIN, columns_for, header_text, make_row, row_text
from denet_tui.widgets.process_tree import PRUNE_AFTER, forest, in_order, visible
from denet_tui.widgets.resource_sparklines import spark_rows, sparklines_text
from denet_tui.widgets.run_summary import summary_lines
from denet_tui.widgets.status_header import HeaderState
from denet_tui.widgets.status_header import header_text as status_text
from denet_tui.widgets.syscall_table import figure_widths, fitting, laid_out, table_rows


def test_figures_are_written_with_units_and_unknown_is_a_dash() -> None:
    assert fmt_bytes(None) == "—"
    assert fmt_bytes(512) == "512 B"
    assert fmt_bytes(1536) == "1.5 KiB"
    assert fmt_bytes(300 * 2**20) == "300 MiB"
    assert fmt_bytes(1536, compact=True) == "1.5K"
    assert fmt_count(12345) == "12.3k"
    assert fmt_count(7) == "7"
    assert fmt_count(0.5) == "0.5"
    assert fmt_int(1234567) == "1,234,567"
    assert fmt_ns(850) == "850ns"
    assert fmt_ns(12_300) == "12.3µs"
    assert fmt_ns(4_560_000) == "4.56ms"
    assert fmt_ns(2.5e9) == "2.50s"
    assert fmt_percent(0.1234) == "12.3%"
    assert fmt_percent(0.1234, estimate=True) == "~12.3%"
    assert fmt_cpu_time(62.346) == "1:02.35"
    assert fmt_cpu_time(7384) == "2h03:04"
    assert fmt_elapsed(75) == "01:15"
    assert fmt_elapsed(3675) == "1:01:15"


def test_status_and_collector_labels() -> None:
    assert fmt_status(TargetStatus(1, "exited", exit_code=3)) == "exited with code 3"
    assert fmt_status(TargetStatus(1, "killed", exit_code=137, signal=9)) == "killed by SIGKILL"
    assert fmt_status(TargetStatus(1, "running")) == "running"
    assert collector_label(CollectorInfo("ebpf", "exact", "")) == "eBPF · exact"
    label = collector_label(CollectorInfo("procfs", "sampled", "ebpf unavailable: not root"))
    assert label == "/proc · sampled — ebpf unavailable: not root"


def _meta(cmd: tuple[str, ...] = ("make", "-j4")) -> Meta:
    return Meta(
        "0", "host", "6.1", Watched("run", cmd, 42), CollectorInfo("ebpf", "exact", ""), 1.0, 0.0
    )


def test_status_header_shows_untrusted_names_literally() -> None:
    snap = Snapshot(
        3.0, 0.0, TargetStatus(42, "exited", exit_code=0), (), SyscallSummary(0, {}, {})
    )
    text = status_text(_meta(("[bold red]x[/]",)), HeaderState(snapshot=snap, scope="[b]y (7)"))
    assert "[bold red]x[/]" in text.plain
    assert "scope: [b]y (7)" in text.plain
    assert "exited with code 0" in text.plain
    assert "00:03" in text.plain
    assert "eBPF · exact" in text.plain


def test_status_header_warns_of_figures_the_collector_lost() -> None:
    def header(diagnostics: dict) -> str:
        snap = Snapshot(
            1.0, 0.0, TargetStatus(42, "running"), (), SyscallSummary(0, {}, {}), diagnostics
        )
        return status_text(_meta(("make",)), HeaderState(snapshot=snap)).plain

    assert "⚠" not in header({"lost": 0, "thread_read_errors": 0})
    assert "⚠ 1,234 figures lost (kernel maps full)" in header({"lost": 1234})
    assert "⚠ 3 thread samples denied" in header({"thread_samples_denied": 3})
    assert "⚠" not in header({"exit_records": 12, "exit_records_lost": 0})
    why = "taskstats exit records: needs CAP_NET_ADMIN"
    assert f"⚠ no final figures at exit ({why})" in header({"exit_records": why})
    assert "⚠ exit records lost 2 times" in header({"exit_records": 9, "exit_records_lost": 2})


def _p(pid: int, ppid: int | None = 1, name: str = "sh", alive: bool = True) -> ProcessSample:
    return ProcessSample(
        pid=pid, ppid=ppid, name=name, cmdline=(name, "-c", "x"), alive=alive, rss_bytes=2048
    )


def test_rows_line_up_under_the_header_at_every_width() -> None:
    rates = Rates(
        1.0,
        {
            "cpu_percent": 12.5,
            "syscalls": 1500.0,
            "read_bytes": 0.0,
            "write_bytes": 1024.0,
            "runq_wait_s": 0.42,  # seconds a second: 42 % of the time waiting for a CPU
        },
    )
    every = columns_for(500, exact=True)
    row = make_row(
        _p(7, name="[kworker/0:1]"), rates, exact=True, matched=True, scoped=False, columns=every
    )
    for width in (40, 60, 80, 120):
        cols = columns_for(width, exact=True)
        line, head = row_text(row, width, cols), header_text(width, "cpu", cols, exact=True)
        assert line.cell_len == head.cell_len == width
        assert "[kworker/0:1]" in line.plain  # never read as markup
        for c in cols:  # each figure ends where its title ends
            title = c.title(True)
            end = head.plain.index(title) + len(title) + (1 if c.key == "cpu_percent" else 0)
            assert line.plain[:end].rstrip().endswith(row.cells[c.key])
    assert row.cells["runq_wait_s"] == "42.0"
    assert [c.key for c in columns_for(40, exact=False)] == ["cpu_percent", "rss_bytes", "calls"]
    assert columns_for(40, exact=False)[2].title(False) == "rw/s"
    wide = columns_for(200, exact=True)
    assert [c.key for c in wide] == [
        "state",
        "cpu_percent",
        "rss_bytes",
        "calls",
        "cpu_time_s",
        "runq_wait_s",
        "read_bytes",
        "write_bytes",
        "net_rx_bytes",
        "net_tx_bytes",
        "read_chars",
        "write_chars",
        "threads",
        "peak_rss_bytes",
    ]
    titles = [c.title(True) for c in wide]
    assert titles[5:12] == [
        "RUNQ%", "DISK R/s", "DISK W/s", "NET RX/s", "NET TX/s", "IO R/s", "IO W/s"
    ]  # fmt: skip
    # /proc has no per-process network counter: no such columns.
    assert not {"net_rx_bytes", "net_tx_bytes"} & {c.key for c in columns_for(200, exact=False)}
    assert titles[-1] == "MAXRSS"
    assert 200 - sum(c.width for c in wide) >= NAME_MIN


def test_an_exited_process_keeps_only_its_totals() -> None:
    dead = ProcessSample(pid=9, ppid=1, name="cc1", cmdline=(), alive=False, cpu_time_s=1.5)
    row = make_row(
        dead, None, exact=True, matched=True, scoped=False, columns=columns_for(500, exact=True)
    )
    assert row.cells["cpu_percent"] == "exited"
    assert row.cells["rss_bytes"] == "—"
    assert row.cells["cpu_time_s"] == "0:01.50"


def test_visible_prunes_the_long_dead_but_keeps_ancestors_of_the_living() -> None:
    procs = [_p(1, None), _p(2, 1, alive=False), _p(3, 2), _p(4, 1, alive=False), _p(5, 1, "gcc")]
    shown, matched = visible(procs, {2: PRUNE_AFTER, 4: PRUNE_AFTER}, "")
    assert shown == {1, 2, 3, 5}  # 2 is long dead but 3 lives under it
    shown, matched = visible(procs, {4: 0}, "GCC")
    assert (shown, matched) == ({1, 5}, {5})
    shown, _ = visible(procs, {}, "4")  # the start of a pid matches too
    assert 4 in shown
    kids = forest(procs, {1, 2, 3, 5}, {1: (False, 0.0), 5: (False, -9.0), 2: (True, 0.0)})
    assert kids == {None: [1], 1: [5, 2], 2: [3]}


def test_category_bars_exact_and_sampled() -> None:
    exact = SyscallSummary(
        total=300,
        by_category={
            "file_io": CategoryStat(200, 3, 2_000_000, None, 0.75),
            "memory": CategoryStat(100, 0, 500_000, None, 0.25),
            "signal": CategoryStat(0, 0, 0, None, 0.0),
        },
        by_name={},
        share_basis="time",
    )
    text = bars_text(exact, {"file_io": 100.0}, exact=True, width=70).plain
    lines = text.splitlines()
    assert lines[0].startswith("CATEGORY")
    assert "SHARE OF TIME" in lines[0]
    assert lines[1].startswith("file_io") and "75.0%" in lines[1] and "200" in lines[1]
    assert lines[2].startswith("memory")
    assert len(lines) == 3  # categories with nothing are left out
    assert title(exact, True, 150.0) == "categories · 300 calls · 150/s"

    sampled = SyscallSummary(
        total=None,
        by_category={"ipc": CategoryStat(None, None, None, 40, 0.4)},
        by_name={},
        share_basis="samples",
    )
    text = bars_text(sampled, {}, exact=False, width=40).plain
    assert "EST. SHARE" in text and "~40.0%" in text and "40" in text
    assert title(sampled, False, None) == "categories · sampled: shares only"
    assert bars_text(None, {}, exact=True, width=40).plain.endswith("waiting for data…")


def test_bar_uses_eighths() -> None:
    assert bar(0.5, 4) == "██  "
    assert bar(1 / 16, 4) == "▎   "
    assert bar(None, 3) == "   "


def test_spark_rows_scale_from_zero_and_leave_gaps_for_unknown() -> None:
    assert spark_rows([0, 4, 8, None], 6, 1, 8) == ["   ▄█ "]
    assert spark_rows([8, 4], 2, 2, 8) == ["█ ", "██"]
    assert spark_rows(list(range(10)), 3, 1, 9) == ["▆▇█"]  # the newest three


def test_sparklines_show_current_value_unit_and_max() -> None:
    series = [
        Rates(1.0, {"cpu_percent": 50.0, "rss_bytes": 2**20}),
        Rates(
            2.0,
            {
                "cpu_percent": 150.0,
                "rss_bytes": 2**21,
                "read_bytes": 1024.0,
                "write_bytes": 0.0,
                "syscalls": 10.0,
                "rw_calls": 5.0,
            },
        ),
    ]
    text = sparklines_text(series, exact=True, width=70, height=5).plain.splitlines()
    assert text[0].startswith("CPU") and "150.0 %" in text[0] and "max 150.0 %" in text[0]
    assert "2.0 MiB" in text[1]
    assert "1.0 KiB/s" in text[2]
    assert text[4].startswith("syscalls") and "10/s" in text[4]
    sampled = sparklines_text(series, exact=False, width=70, height=10).plain.splitlines()
    assert len(sampled) == 10
    assert sampled[8].startswith("r/w calls") and "5/s" in sampled[8]


def test_table_rows_like_strace_c() -> None:
    hist = tuple([0] * 10 + [100])  # every call in [1024, 2048) ns
    summary = SyscallSummary(
        total=110,
        by_category={},
        by_name={
            "read": SyscallStat("file_io", count=100, errors=2, time_ns=150_000, hist=hist),
            "close": SyscallStat("file_io", count=10, errors=0, time_ns=50_000),
        },
        share_basis="time",
    )
    rows = {r.name: r for r in table_rows(summary, "time")}
    read = {k: v.plain for k, v in rows["read"].cells.items()}
    assert read["calls"] == "100"
    assert read["errors"] == "2"
    assert read["time"] == "75.0%"
    assert read["avg"] == "1.50µs"
    assert read["p99"] == "2.04µs"
    assert rows["close"].cells["p99"].plain == "—"
    assert rows["read"].sort["time"] < rows["close"].sort["time"]  # biggest first

    sampled = SyscallSummary(
        total=None,
        by_category={},
        by_name={"wait4": SyscallStat("process", samples=30)},
        share_basis="samples",
    )
    (row,) = table_rows(sampled, "samples")
    assert row.cells["time"].plain == "~100.0%"
    assert row.cells["hits"].plain == "30"


def test_a_rows_figures_are_laid_out_in_their_columns() -> None:
    text = laid_out(
        [
            (Text("1,844", style="red"), 7, False),
            (Text("file_io", style="blue"), 9, True),
            (Text("clock_nanosleep"), 6, True),
        ]
    )
    assert text.plain == "  1,844  file_io    clock…"
    # A cell's style covers its whole column (as a table cell's does), its text cut or not.
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [(0, 7, "red"), (9, 18, "blue")]


def test_a_figure_column_widens_to_its_widest_value_and_never_narrows() -> None:
    summary = SyscallSummary(
        total=None,
        by_category={},
        by_name={"stat": SyscallStat("file_io", count=12_345_678, errors=1_234_567, time_ns=9)},
        share_basis="time",
    )
    widest: dict[str, int] = {}
    columns = ("syscall", "calls", "time", "errors")
    figures = figure_widths("time", columns, table_rows(summary, "time"), widest)
    widths = {key: width for key, _title, width in figures}
    assert widths == {"calls": len("12,345,678"), "time": 7, "errors": len("1,234,567")}
    row = laid_out([(table_rows(summary, "time")[0].cells[k], w, False) for k, _t, w in figures])
    assert "12,345,678" in row.plain and "1,234,567" in row.plain  # never cut
    quiet = SyscallSummary(None, {}, {"stat": SyscallStat("file_io", count=1)}, "time")
    again = figure_widths("time", columns, table_rows(quiet, "time"), widest)
    assert again == figures


def test_table_drops_columns_that_do_not_fit() -> None:
    assert fitting("time", 38) == ("syscall", "calls", "time")
    assert fitting("time", 200)[-1] == "category"
    assert fitting("samples", 10) == ("syscall",)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m plain", "red plain"),
        ("10%\r50%\r100%", "100%"),
        ("title\x1b]0;evil\x07 ok", "title ok"),
        ("crlf\r", "crlf"),
    ],
)
def test_clean_line_removes_terminal_control(raw: str, shown: str) -> None:
    assert clean_line(raw) == shown


def test_log_tail_reads_whole_lines_and_skips_floods(tmp_path) -> None:
    path = tmp_path / "out.log"
    path.write_bytes(b"one\ntw")
    tail = LogTail(str(path), limit=16)
    assert tail.read() == (["one"], 0)
    with open(path, "ab") as f:
        f.write(b"o\n")
    assert tail.read() == (["two"], 0)
    with open(path, "ab") as f:
        f.write(b"x" * 100 + b"\nlast\n")
    lines, skipped = tail.read()
    assert skipped == 114 - 16 - 8 and lines[-1] == "last"
    with open(path, "ab") as f:
        f.write(b"no newline")
    assert tail.read() == ([], 0)
    assert tail.rest() == "no newline"
    os.truncate(path, 0)
    assert tail.read() == ([], 0)


def test_in_order_keeps_the_longest_run_in_place() -> None:
    assert in_order([0, 1, 2]) == {0, 1, 2}
    assert in_order([1, 2, 0]) == {0, 1}  # the one that moved to the front is re-added
    assert in_order([3, 0, 1, 2]) == {1, 2, 3}
    assert in_order([]) == set()


def test_the_scope_root_is_never_pruned() -> None:
    procs = [_p(1, None), _p(2, 1, alive=False)]
    assert visible(procs, {2: PRUNE_AFTER}, "")[0] == {1}
    assert visible(procs, {2: PRUNE_AFTER}, "", scope=2)[0] == {1, 2}


def test_control_characters_from_processes_are_made_visible() -> None:
    nasty = "a\x1b]2;PWNED\x07b\nc\rd\te\x7f\x9b\u2028"
    assert visible_text(nasty) == "a\\e]2;PWNED\\x07b\\nc\\rd\\te\\x7f\\x9b\\u2028"
    p = ProcessSample(pid=5, ppid=1, name="\x1b[31mred", cmdline=("x", "a\nb"), alive=True)
    cols = columns_for(80, exact=True)
    row = make_row(p, None, exact=True, matched=True, scoped=False, columns=cols)
    text = row_text(row, 80, cols).plain
    assert "\\e[31mred" in text and "a\\nb" in text
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)
    # The output pane: whole sequences go, anything left is shown.
    assert clean_line("\x1b[1mbold\x1b[0m \x1b lone\x07") == "bold \\e lone\\x07"


def test_bidirectional_controls_and_bytes_that_are_not_text_are_made_visible() -> None:
    assert visible_text("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert visible_text("a\udc9bb") == "a\\x9bb"  # a byte of argv that was not UTF-8


def test_the_run_summary_reads_like_time_v_and_says_what_is_a_lower_bound() -> None:
    totals = TreeTotals(
        processes_seen=3,
        processes_ended=2,
        cpu_time_s=1.5,
        minor_faults=1200,
        major_faults=0,
        peak_rss_max_bytes=40 << 20,
        rss_sum_peak_bytes=None,
        syscalls=4321,
        unknown={"cpu_time_s": 1},
    )
    snap = Snapshot(3.0, 0.0, TargetStatus(1, "exited", 0), (), totals=totals)
    with_sched = CollectorInfo("ebpf", "exact", "", families={"sched": "exact"})
    rows = dict(summary_lines(snap, with_sched))
    assert rows["Command"] == "exited with code 0"
    # The root is not listed in this snapshot: its start and end are not at hand.
    assert rows["Elapsed (wall clock) time"] == "3.00s  (watched, to the last snapshot)"
    # Given as last listed (it ended snapshots before the last), they are: the command's time,
    # as the end record's command_wall_s (a review found the two could differ).
    root = ProcessSample(
        pid=1, ppid=None, name="sh", cmdline=(), alive=False, start_ts=10.0, end_ts=10.25
    )
    assert dict(summary_lines(snap, with_sched, root))["Elapsed (wall clock) time"] == (
        "250.0ms  (the command's, start to end)"
    )
    assert rows["CPU time, user + system"] == (
        "1.50s  (50% of one core)  (lower bound: 1 process without it)"
    )
    assert rows["User / system"] == "—"  # no split given
    assert rows["Maximum resident set size"] == "40.0 MiB  (largest process)"
    assert rows["Peak of the summed RSS"] == "—"  # unknown, never 0
    assert rows["Page faults"] == "0 major, 1,200 minor"
    assert rows["Context switches"] == "—"
    assert rows["System calls"] == "4,321 (exact)"
    assert rows["Processes"] == "3 (2 ended)"
    # Without the sched family, ended processes' CPU came from exit records, which miss each
    # one's last time slice: at least.
    known = replace(totals, unknown={})
    bare = dict(summary_lines(replace(snap, totals=known), CollectorInfo("ebpf", "exact", "")))
    assert bare["CPU time, user + system"].startswith("≥ 1.50s  (50% of one core)  (lower bound:")
    assert "last time slice" in bare["CPU time, user + system"]


def test_lost_events_are_said_in_the_header() -> None:
    from denet_tui.widgets.format import data_warnings

    assert data_warnings({"signals_lost": 32, "exec_lost": 0, "files_full": 1_200}) == [
        "lost: 32 signals, 1,200 file calls (kernel buffers full)"
    ]
    assert data_warnings({"signals_lost": 0}) == []
