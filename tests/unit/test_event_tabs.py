"""The event tabs' pure parts: scope and filter on events, the one time order of the event log,
privileged calls in words, and kernel bytes as text that says which bytes they were."""

from __future__ import annotations

from dataclasses import replace

from denet_tui.event_filter import Ancestry, EventFilter
from denet_tui.event_logs import EventTimeline, logged
from denet_tui.model import (
    Connection,
    ExecEvent,
    FileStat,
    PrivilegeEvent,
    ProcessSample,
    SignalEvent,
    Snapshot,
    TargetStatus,
)
from denet_tui.privileges import capability_name, describe, flag_names
from denet_tui.rawtext import c_string, decoded


def snap(**kw) -> Snapshot:
    kw.setdefault("processes", ())
    return Snapshot(t=0.0, ts=0.0, target=TargetStatus(pid=1, status="running"), **kw)


def test_scope_keeps_a_subtree_events_after_its_processes_ended() -> None:
    ancestry = Ancestry()
    ancestry.add(
        snap(
            execs=(
                ExecEvent(ts=1.0, pid=11, ppid=10, name="cc", path="/cc", argv=("cc",)),
                ExecEvent(ts=1.0, pid=12, ppid=11, name="as", path="/as", argv=("as",)),
                ExecEvent(ts=1.0, pid=20, ppid=1, name="ls", path="/ls", argv=("ls",)),
            )
        )
    )
    flt = EventFilter("", 11, ancestry)
    sig = SignalEvent(
        ts=2.0, kind="sent", signal="SIGTERM", sender_pid=20, sender_name="ls",
        sender_in_tree=True, target_pid=12, target_name="as", target_in_tree=True,
        outcome="delivered",
    )  # fmt: skip
    assert flt.matches(sig)  # its target is in the subtree
    assert not flt.matches(PrivilegeEvent(2.0, 20, "ls", "prctl", "", None, 0, None, 0, 0))
    assert EventFilter("term", None, ancestry).matches(sig)  # the filter text, any case
    assert not EventFilter("kill", None, ancestry).matches(sig)
    # An exec's result and an exit's status are searched too (a trial: "/ENOENT" found none).
    failed = ExecEvent(ts=1.0, pid=21, ppid=1, name="x", path="/x", argv=("x",), error="ENOENT")
    assert EventFilter("enoent", None, ancestry).matches(failed)
    assert not EventFilter("enoent", None, ancestry).matches(replace(failed, error=None))
    gone = ProcessSample(pid=21, ppid=1, name="x", cmdline=(), alive=False, exit_code=130,
                         killed_by_signal=2)  # fmt: skip
    assert EventFilter("sigint", None, ancestry).matches(gone)
    file = FileStat(path="/etc/x", calls=1, failures=0, error=None, processes=1, modes="r",
                    first_ts=1.0, last_ts=1.0)  # fmt: skip
    assert flt.matches(file)  # a path's figures are the whole tree's: never hidden by scope


def test_ancestry_is_bounded_and_a_pid_loop_ends() -> None:
    ancestry = Ancestry(max_processes=3)
    for pid in range(10, 20):
        ancestry._note(pid, pid - 1)
    assert len(ancestry.parent) == 3
    ancestry._note(5, 6)
    ancestry._note(6, 5)
    assert not ancestry.descends(5, 99)


def test_event_log_in_time_order_across_snapshots() -> None:
    timeline = EventTimeline(max_rows=3)
    ended = ProcessSample(pid=7, ppid=1, name="sh", cmdline=("sh", "-c", "x y"), alive=False,
                          end_ts=5.0, exit_code=143, killed_by_signal=15)  # fmt: skip
    timeline.add(snap(execs=(ExecEvent(ts=6.0, pid=8, ppid=1, name="a", path="/a", argv=()),)))
    timeline.add(snap(processes=(ended,)))  # reported later than it happened
    assert [(e.ts, e.family) for e in timeline.rows] == [(5.0, "exit"), (6.0, "exec")]
    assert timeline.rows[0].result == "143 SIGTERM" and timeline.rows[0].failed
    # An exit(143) is not a death by SIGTERM.
    by_itself = replace(ended, pid=17, end_ts=5.5, killed_by_signal=None)
    assert logged(snap(processes=(by_itself,)))[0].result == "143"
    assert timeline.rows[0].detail == "sh -c 'x y'"
    for ts in (7.0, 8.0):
        timeline.add(snap(execs=(ExecEvent(ts=ts, pid=9, ppid=1, name="b", path="/b", argv=()),)))
    assert [e.ts for e in timeline.rows] == [6.0, 7.0, 8.0] and timeline.dropped == 1
    assert logged(snap()) == []


def test_privileged_calls_in_words() -> None:
    assert capability_name(21) == "CAP_SYS_ADMIN" and capability_name(99) == "capability 99"
    assert describe("setresuid", (65534, 0xFFFFFFFF, 0, 0)) == "ruid=65534 euid=- suid=0"
    assert describe("unshare", (0x10020000, 0, 0, 0)) == "CLONE_NEWNS|CLONE_NEWUSER"
    assert flag_names(0x1 | 0x400000000, {0x1: "A"}) == "A|0x400000000"
    assert describe("ptrace", (0x4206, 1234, 0, 0)) == "PTRACE_SEIZE pid=1234"
    assert describe("prctl", (15, 140000, 0, 0)) == "PR_SET_NAME"  # the name is the path
    assert describe("bpf", (5, 0, 0, 0)) == "BPF_PROG_LOAD"


def test_kernel_bytes_as_text_never_mix_a_byte_and_its_spelling() -> None:
    assert decoded(b"bad\xff") == "bad\\xff"
    assert decoded(b"bad\\xff") == "bad\\\\xff"
    assert decoded("é".encode()) == "é"
    assert c_string(b"comm\0garbage") == "comm"


def test_proc_programs_each_seen_once_dated_at_the_start_then_when_seen() -> None:
    import os
    import sys

    from denet_tui.collectors.programs_seen import ProgramsSeen

    me = os.getpid()
    seen = ProgramsSeen()
    sh = ProcessSample(pid=me, ppid=1, name="sh", cmdline=("sh", "x"), alive=True, start_ts=10.0)
    (first,) = seen.update([sh], [])
    assert (first.ts, first.argv, first.path) == (
        10.0,
        ("sh", "x"),
        os.path.realpath(sys.executable),
    )
    assert seen.update([sh], []) == ()  # the same program: once
    execd = ProcessSample(pid=me, ppid=1, name="sleep", cmdline=("sleep", "1"), alive=True,
                          start_ts=10.0)  # fmt: skip
    (second,) = seen.update([execd], [])
    assert second.argv == ("sleep", "1") and second.ts > 10.0  # when the scan saw it
    seen.update([], [me])
    assert seen.update([execd], []) != ()  # forgotten at its end: a new process on its pid


def test_proc_files_held_open_counted_once_per_holding(tmp_path) -> None:
    import subprocess
    import sys

    from denet_tui.collectors.held_files import HeldFiles

    path = tmp_path / "held [x].txt"
    path.write_text("x")
    code = f"import time; f = open({str(path)!r}); print(1, flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline()
        held = HeldFiles()
        p = ProcessSample(pid=child.pid, ppid=1, name="python", cmdline=(), alive=True)
        rows = {r.path: r for r in held.update([p], [])}
        assert (rows[str(path)].op, rows[str(path)].calls, rows[str(path)].processes) == (
            "held", 1, 1,
        )  # fmt: skip
        assert (rows[str(path)].last_pid, rows[str(path)].last_name) == (child.pid, "python")
        assert held.update([p], []) == ()  # the same sample: it has not run, not read again
        again = ProcessSample(pid=child.pid, ppid=1, name="python", cmdline=(), alive=True)
        assert held.update([again], []) == ()  # read again: the same holding, nothing new
    finally:
        child.kill()
        child.wait()


def test_the_filter_and_scope_reach_connections() -> None:
    conn = Connection(
        pid=7, family="ipv4", direction="connect", state="ESTABLISHED",
        local="127.0.0.1:5000", remote="127.0.0.1:8080", rx_bytes=1, tx_bytes=2,
        start_ts=1.0, end_ts=None,
    )  # fmt: skip
    assert EventFilter(text=":8080").matches(conn)
    assert not EventFilter(text=":9999").matches(conn)
    tree = Ancestry()
    tree._note(7, 3)
    tree._note(3, 1)
    assert EventFilter(scope=3, ancestry=tree).matches(conn)  # 7 descends from 3
    assert not EventFilter(scope=9, ancestry=tree).matches(conn)
