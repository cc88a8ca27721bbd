"""The Programs tab's pieces without an app: the exec log (order, exit statuses joined from
ended processes, the bound) and its cells (kernel strings shown as harmless text)."""

from __future__ import annotations

from denet_tui.model import ExecEvent, ProcessSample, Snapshot, TargetStatus
from denet_tui.programs import ProgramsLog
from denet_tui.widgets.programs_table import row_cells

RUNNING = TargetStatus(pid=1, status="running")


def snap(execs=(), processes=()) -> Snapshot:
    return Snapshot(t=0.0, ts=0.0, target=RUNNING, processes=processes, execs=execs)


def ended(pid: int, start: float, end: float, code: int) -> ProcessSample:
    return ProcessSample(
        pid=pid, ppid=1, name="x", cmdline=(), alive=False, start_ts=start, end_ts=end,
        exit_code=code,
    )  # fmt: skip


def test_execs_in_order_and_each_gets_its_exit_status() -> None:
    log = ProgramsLog()
    ok = ExecEvent(ts=10.0, pid=5, ppid=1, name="cc", path="/bin/cc", argv=("cc", "a.c"))
    bad = ExecEvent(ts=10.5, pid=6, ppid=1, name="sh", path="/no", argv=("/no",), error="ENOENT")
    log.add(snap(execs=(ok, bad)))
    assert [r.event for r in log.rows] == [ok, bad]
    log.add(snap(processes=(ended(5, 9.9, 12.0, 1), ended(6, 10.4, 10.6, 127))))
    first, second = log.rows
    assert (first.exit_code, first.duration_s) == (1, 2.0)
    assert second.exit_code is None  # a failed exec ran nothing: the 127 is its shell's


def test_the_log_is_bounded_and_says_how_much_it_let_go() -> None:
    log = ProgramsLog(max_rows=3)
    for i in range(5):
        log.add(snap(execs=(ExecEvent(ts=i, pid=i + 2, ppid=1, name="t", path="/t", argv=()),)))
    assert [r.event.pid for r in log.rows] == [4, 5, 6] and log.dropped == 2


def test_hostile_arguments_are_shown_as_text() -> None:
    log = ProgramsLog()
    e = ExecEvent(
        ts=1.0, pid=7, ppid=1, name="echo", path="/bin/echo",
        argv=("echo", "[bold]x", "a\x1b[31mb\nc", "\udcff"), argv_cut=True,
    )  # fmt: skip
    log.add(snap(execs=(e,)))
    cells = row_cells(log.rows[0])
    text = cells[-1].plain
    assert "\x1b" not in text and "\n" not in text
    assert "[bold]x" in text and "\\e[31mb\\nc" in text and text.endswith("…(cut)")
    assert cells[3].plain == "ok"
