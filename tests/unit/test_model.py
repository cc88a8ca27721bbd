from __future__ import annotations

import json
from dataclasses import replace

import pytest

from denet_tui.ledger import summarize
from denet_tui.model import (
    CollectorInfo,
    Meta,
    ProcessSample,
    ProcessSyscalls,
    Snapshot,
    SyscallStat,
    SyscallTable,
    TargetStatus,
    Watched,
)


def proc(pid: int, **by_name: SyscallStat) -> ProcessSample:
    return ProcessSample(
        pid=pid,
        ppid=1,
        name="x",
        cmdline=("x",),
        alive=True,
        syscalls=ProcessSyscalls(count=None, by_name=by_name),
    )


def test_summarize_exact_sums_counts_and_time() -> None:
    a = proc(2, read=SyscallStat("file_io", count=10, errors=1, time_ns=1000))
    b = proc(
        3,
        read=SyscallStat("file_io", count=5, errors=0, time_ns=3000),
        connect=SyscallStat("network", count=1, errors=1, time_ns=4000),
    )
    s = summarize([a, b], "time", exact=True)
    assert s.total == 16
    assert s.by_name["read"].count == 15 and s.by_name["read"].time_ns == 4000
    assert s.by_name["read"].hist is None  # histograms are the tree's, never a process's
    assert s.by_category["file_io"].errors == 1 and s.by_category["network"].errors == 1
    assert s.by_category["file_io"].share == 0.5 and s.by_category["network"].share == 0.5
    assert s.by_category["file_io"].count == 15
    assert s.by_category["memory"].share == 0.0 and s.by_category["memory"].count == 0


def test_process_syscall_table_reads_like_a_mapping_and_refuses_histograms() -> None:
    table = proc(2, read=SyscallStat("file_io", count=3, errors=1, time_ns=9)).syscalls_by_name
    assert isinstance(table, SyscallTable)
    assert dict(table) == {"read": SyscallStat("file_io", count=3, errors=1, time_ns=9)}
    assert table == SyscallTable([("read", "file_io", 3, 1, 9, None)])
    assert len(table) == 1 and list(table) == ["read"] and "write" not in table
    with pytest.raises(ValueError, match="histograms"):
        proc(2, read=SyscallStat("file_io", count=1, hist=(1,)))


def test_summarize_sampled_has_no_invented_counts() -> None:
    a = proc(2, nanosleep=SyscallStat("time", samples=30), read=SyscallStat("file_io", samples=10))
    s = summarize([a], "samples", exact=False)
    assert s.total is None
    assert s.by_category["time"].count is None and s.by_category["time"].share == 0.75
    assert s.by_name["read"].count is None and s.by_name["read"].samples == 10


def test_snapshot_and_meta_round_trip_through_json() -> None:
    snap = Snapshot(
        t=1.5,
        ts=1e9,
        target=TargetStatus(pid=2, status="killed", exit_code=130, signal=2),
        processes=[proc(2, read=SyscallStat("file_io", count=1, errors=0, time_ns=5))],
        syscalls=summarize([], "time", exact=True),
        diagnostics={"lost": 0},
    )
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap
    meta = Meta(
        tool_version="0",
        host="h",
        kernel="k",
        target=Watched(mode="run", cmd=("a",), pid=2),
        collector=CollectorInfo("ebpf", "exact", "why", "time"),
        interval=1.0,
        started_ts=1.0,
    )
    assert Meta.from_dict(json.loads(json.dumps(meta.to_dict()))) == meta


def test_a_reason_given_for_a_whole_family_answers_for_each_of_its_figures() -> None:
    p = ProcessSample(
        pid=2, ppid=1, name="x", cmdline=(), alive=False,
        null_reasons={"proc": "process ended before /proc could be read", "exit_code": "why"},
    )  # fmt: skip
    assert p.null_reason("minor_faults") == "process ended before /proc could be read"
    assert p.null_reason("exit_code") == "why"
    assert p.null_reason("syscalls") is None  # another family: no reason given


def test_an_exit_record_names_the_program_that_ended() -> None:
    from denet_tui.collectors.exit_figures import at_exit
    from denet_tui.collectors.taskstats import ExitRecord

    # /proc last read it as the forked shell, before its exec.
    forked = ProcessSample(pid=9, ppid=1, name="sh", cmdline=("sh", "-c", "x"), alive=True)
    figures = (
        dict.fromkeys(
            (
                "cpu_time_s",
                "cpu_user_s",
                "cpu_system_s",
                "runq_wait_s",
                "read_bytes",
                "write_bytes",
            ),
            0,
        )
        | dict.fromkeys(
            ("read_chars", "write_chars", "read_syscalls", "write_syscalls", "minor_faults"), 0
        )
        | dict.fromkeys(("major_faults", "ctx_voluntary"), 0)
    )
    rec = ExitRecord(
        tgid=9, ppid=1, comm="python", start_s=0, exit_code=0, killed_by_signal=None,
        peak_rss_bytes=4096,
        ctx_involuntary=0, threads=1, **figures,
    )  # fmt: skip
    ended = at_exit(forked, rec, None)
    assert ended.name == "python" and ended.cmdline == () and not ended.alive
    assert at_exit(replace(forked, name="python"), rec, None).cmdline == forked.cmdline
    # Call counts rounded down to a multiple of 1,024: null with the reason unless /proc read
    # them (then the larger one stands).
    assert ended.read_syscalls is None and "1,024" in (ended.null_reason("read_syscalls") or "")
    read = at_exit(replace(forked, read_syscalls=700, write_syscalls=3), rec, None)
    assert (read.read_syscalls, read.write_syscalls) == (700, 3)
    assert read.null_reason("read_syscalls") is None
    # I/O bytes: a record's 0 means "under 1,024" (null, said); more is kept (a whole page
    # of disk bytes is never rounded).
    assert ended.write_chars is None and "under 1,024" in (ended.null_reason("write_chars") or "")
    wrote = at_exit(forked, replace(rec, write_chars=4096), None)
    assert wrote.write_chars == 4096 and wrote.null_reason("write_chars") is None
    assert ended.write_bytes == 0  # disk bytes come in pages


def test_an_exit_never_lowers_the_user_or_system_time_shown_before() -> None:
    from denet_tui.collectors.exit_figures import at_exit
    from denet_tui.collectors.taskstats import ExitRecord

    # Shown while it ran: 19 ms, all user (no system tick yet); its record's ticks are all in
    # the kernel (the last ones came at its exit).
    ran = ProcessSample(
        pid=9, ppid=1, name="sh", cmdline=("sh",), alive=True,
        cpu_time_s=0.019, cpu_user_s=0.019, cpu_system_s=0.0,
    )  # fmt: skip
    rec = ExitRecord(
        tgid=9, ppid=1, comm="sh", start_s=0, exit_code=0, killed_by_signal=None,
        cpu_time_s=0.020, cpu_user_s=0.0, cpu_system_s=0.020, runq_wait_s=0.0,
        peak_rss_bytes=4096, read_bytes=0, write_bytes=0, read_chars=0, write_chars=0,
        read_syscalls=0, write_syscalls=0, minor_faults=0, major_faults=0,
        ctx_voluntary=0, ctx_involuntary=0, threads=1,
    )  # fmt: skip
    ended = at_exit(ran, rec, None)
    assert ended.cpu_time_s == 0.020
    assert ended.cpu_user_s == 0.019 and abs(ended.cpu_system_s - 0.001) < 1e-12
