from __future__ import annotations

import json

from denet_tui.ledger import summarize
from denet_tui.model import (
    CollectorInfo,
    Meta,
    ProcessSample,
    ProcessSyscalls,
    Snapshot,
    SyscallStat,
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


def test_summarize_exact_sums_counts_time_and_histograms() -> None:
    a = proc(2, read=SyscallStat("file_io", count=10, errors=1, time_ns=1000, hist=(1, 2, 0)))
    b = proc(
        3,
        read=SyscallStat("file_io", count=5, errors=0, time_ns=3000, hist=(0, 1, 4)),
        connect=SyscallStat("network", count=1, errors=1, time_ns=4000, hist=(0, 0, 1)),
    )
    s = summarize([a, b], "time", exact=True)
    assert s.total == 16
    assert s.by_name["read"].count == 15 and s.by_name["read"].hist == (1, 3, 4)
    assert s.by_category["file_io"].errors == 1 and s.by_category["network"].errors == 1
    assert s.by_category["file_io"].share == 0.5 and s.by_category["network"].share == 0.5
    assert s.by_category["file_io"].count == 15
    assert s.by_category["memory"].share == 0.0 and s.by_category["memory"].count == 0


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
        processes=[proc(2, read=SyscallStat("file_io", count=1, errors=0, time_ns=5, hist=(1,)))],
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
