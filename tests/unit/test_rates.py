"""Rates between snapshots, percentiles from log2 histograms, and the screen's timeline."""

from __future__ import annotations

import pytest

from denet_tui.evolve import evolve
from denet_tui.ledger import summarize
from denet_tui.model import (
    CategoryStat,
    ProcessSample,
    ProcessSyscalls,
    Snapshot,
    SyscallStat,
    SyscallSummary,
    TargetStatus,
)
from denet_tui.rates import (
    Frame,
    Timeline,
    category_rates,
    history,
    percentile_ns,
    process_rates,
    subtree,
    tree_rates,
)


def proc(pid: int, ppid: int | None = 1, **kw: object) -> ProcessSample:
    kw.setdefault("alive", True)
    if "syscalls" in kw or "syscalls_by_name" in kw:
        count, by_name = kw.pop("syscalls", None), kw.pop("syscalls_by_name", {})
        kw["syscalls"] = ProcessSyscalls(count=count, by_name=by_name)  # type: ignore[arg-type]
    return ProcessSample(pid=pid, ppid=ppid, name=f"p{pid}", cmdline=(f"p{pid}",), **kw)  # type: ignore[arg-type]


def snap(t: float, *procs: ProcessSample, exact: bool = True) -> Snapshot:
    basis = "time" if exact else "samples"
    return Snapshot(
        t=t,
        ts=1000.0 + t,
        target=TargetStatus(pid=procs[0].pid if procs else 1, status="running"),
        processes=procs,
        syscalls=summarize(procs, basis, exact=exact),
    )


def test_subtree_follows_ppid_and_ignores_self_parenting() -> None:
    f = Frame.of(snap(0, proc(10, 1), proc(11, 10), proc(12, 11), proc(20, 1), proc(30, 30)))
    assert subtree(f.points, 10) == {10, 11, 12}
    assert subtree(f.points, 30) == {30}
    assert subtree(f.points, 99) == frozenset()


def test_first_frame_has_levels_but_no_rates() -> None:
    f = Frame.of(snap(1.0, proc(10, cpu_percent=50.0, rss_bytes=100, syscalls=7)))
    r = process_rates(None, f)[10]
    assert r["cpu_percent"] == 50.0
    assert (r["syscalls"], r["read_bytes"], r["write_bytes"], r["rw_calls"]) == (None,) * 4
    t = tree_rates(None, f)
    assert (t["cpu_percent"], t["rss_bytes"], t["syscalls"]) == (50.0, 100, None)


def test_process_rates_are_deltas_over_the_interval() -> None:
    a = Frame.of(snap(1.0, proc(10, syscalls=100, read_bytes=0, read_syscalls=5, write_syscalls=5)))
    b = Frame.of(
        snap(
            3.0,
            proc(10, syscalls=300, read_bytes=4096, read_syscalls=15, write_syscalls=9),
            proc(11, 10, syscalls=50, cpu_time_s=0.5),  # born in between: all of it is new
        )
    )
    r = process_rates(a, b)
    assert r[10]["syscalls"] == 100.0
    assert r[10]["read_bytes"] == 2048.0
    assert r[10]["rw_calls"] == 7.0
    assert r[11]["syscalls"] == 25.0
    # No CPU % from the collector yet: CPU time used over the interval.
    assert r[11]["cpu_percent"] == 25.0


def test_unknown_counters_stay_unknown_and_reused_pids_restart() -> None:
    a = Frame.of(snap(1.0, proc(10, syscalls=None, read_bytes=5000)))
    b = Frame.of(snap(2.0, proc(10, syscalls=None, read_bytes=1000)))  # a new process, same pid
    r = process_rates(a, b)[10]
    assert r["syscalls"] is None
    assert r["read_bytes"] == 1000.0


def test_tree_cpu_counts_processes_that_exited_in_the_interval() -> None:
    a = Frame.of(snap(1.0, proc(10, cpu_time_s=1.0), proc(11, 10, cpu_time_s=2.0)))
    b = Frame.of(
        snap(
            2.0,
            proc(10, cpu_time_s=1.5, cpu_percent=50.0, rss_bytes=10),
            proc(11, 10, alive=False, cpu_time_s=2.5, rss_bytes=0),
        )
    )
    t = tree_rates(a, b)
    assert t["cpu_percent"] == pytest.approx(100.0)  # 0.5 s each over 1 s
    assert t["rss_bytes"] == 10  # only the living
    assert tree_rates(a, b, {11})["cpu_percent"] == pytest.approx(50.0)


def test_history_has_one_sample_per_frame() -> None:
    frames = [Frame.of(snap(t, proc(10, syscalls=int(t) * 10))) for t in (1.0, 2.0, 3.0)]
    h = history(frames)
    assert [x.t for x in h] == [1.0, 2.0, 3.0]
    assert [x["syscalls"] for x in h] == [None, 10.0, 10.0]


def test_category_rates_need_exact_counts_on_both_sides() -> None:
    def summary(count: int | None) -> SyscallSummary:
        return SyscallSummary(
            total=count,
            by_category={"file_io": CategoryStat(count, 0, None, None, 1.0)},
            by_name={},
        )

    assert category_rates(summary(10), summary(30), 2.0) == {"file_io": 10.0}
    assert category_rates(None, summary(30), 2.0) == {"file_io": None}
    assert category_rates(summary(None), summary(None), 2.0) == {"file_io": None}


@pytest.mark.parametrize(
    ("hist", "q", "expected"),
    [
        ((0, 0, 0, 10), 0.5, 12.0),  # bucket [8, 16): halfway
        ((0, 0, 0, 10), 1.0, 16.0),
        ((10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0.5, 1.55),
        ((10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), 0.99, 1024 + 1024 * 0.89),  # the 11th of 11 calls
        ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 99), 0.5, 2048 + 2048 * 49 / 99),
    ],
)
def test_percentile_interpolates_within_the_log2_bucket(
    hist: tuple[int, ...], q: float, expected: float
) -> None:
    assert percentile_ns(hist, q) == pytest.approx(expected, rel=1e-3)


def test_a_percentile_never_passes_all_the_calls_time_together() -> None:
    one_sleep = [0] * 30 + [1]  # one call of 2.0 s, in the bucket [2**30, 2**31) ns
    assert percentile_ns(one_sleep, 0.99) == pytest.approx(2**30 * 1.99)  # 2.14 s
    assert percentile_ns(one_sleep, 0.99, ceiling_ns=2.0e9) == 2.0e9
    # A total read before the call was added to it: never below what the bucket says.
    assert percentile_ns(one_sleep, 0.99, ceiling_ns=0.0) == 2**30


def test_percentile_of_nothing_is_unknown() -> None:
    assert percentile_ns(None, 0.99) is None
    assert percentile_ns((), 0.99) is None
    assert percentile_ns((0, 0), 0.99) is None
    with pytest.raises(ValueError):
        percentile_ns((1,), 1.5)


def _by_name(**counts: int) -> dict[str, SyscallStat]:
    return {n: SyscallStat(category="file_io", count=c, time_ns=c * 100) for n, c in counts.items()}


def test_timeline_scopes_syscalls_and_sparklines_to_a_subtree() -> None:
    tl = Timeline(exact=True, share_basis="time")
    tl.add(
        snap(
            1.0, proc(10, syscalls=10, syscalls_by_name=_by_name(read=10)), proc(11, 10, syscalls=0)
        )
    )
    tl.add(
        snap(
            2.0,
            proc(10, syscalls=30, syscalls_by_name=_by_name(read=30)),
            proc(11, 10, syscalls=5, syscalls_by_name=_by_name(write=5)),
        )
    )
    now, before, dt = tl.syscalls()
    assert (now.total, before.total, dt) == (35, 10, 1.0)
    assert [s["syscalls"] for s in tl.series] == [None, 25.0]

    tl.set_scope(11)
    now, before, _ = tl.syscalls()
    assert (now.total, before.total) == (5, 0)
    assert set(now.by_name) == {"write"}
    assert [s["syscalls"] for s in tl.series] == [None, 5.0]
    tl.set_scope(None)
    assert tl.scope_pids() is None


def test_the_scope_of_a_process_no_longer_listed_is_what_it_did() -> None:
    # A child ended, then its parent: picked in the tree after the run, the child's own calls.
    tl = Timeline(exact=True, share_basis="time")
    child = proc(11, 10, alive=False, syscalls=7, syscalls_by_name=_by_name(write=7))
    tl.add(snap(1.0, proc(10, syscalls=3, syscalls_by_name=_by_name(read=3)), child))
    tl.add(snap(2.0, proc(10, alive=False, syscalls=4, syscalls_by_name=_by_name(read=4))))
    tl.set_scope(11)
    assert tl.scope_pids() == {11}
    now, _before, _ = tl.syscalls()
    assert now is not None and now.total == 7 and set(now.by_name) == {"write"}
    assert tl.process(11) is child


def test_a_snapshot_moments_after_the_last_is_not_a_rate_over_milliseconds() -> None:
    from denet_tui.model import EMPTY_SYSCALLS, Snapshot, TargetStatus

    def snap(t: float, calls: int) -> Snapshot:
        p = proc(1, 0, syscalls=calls)
        return Snapshot(t, t, TargetStatus(1, "running"), (p,), EMPTY_SYSCALLS)

    tl = Timeline(exact=True, share_basis="count", min_dt=0.5)
    for s in (snap(0.0, 0), snap(1.0, 100), snap(2.0, 200), snap(2.005, 210)):
        tl.add(s)
    # 110 calls over the 1.005 s since the snapshot at t=1, not 10 calls over 5 ms (2,000/s).
    assert tl.process_rates[1]["syscalls"] == pytest.approx(110 / 1.005)
    assert [round(r.t, 3) for r in tl.series] == [0.0, 1.0, 2.005]
    assert tl.previous is not None and tl.previous.t == 1.0
    # A process that ended in the replaced step (listed there only) counts in the new one.
    gone = evolve(proc(2, 1, syscalls=50), alive=False)
    tl.add(evolve(snap(3.0, 300), processes=(proc(1, 0, syscalls=300), gone)))
    tl.add(snap(3.004, 301))
    assert tl.series[-1]["syscalls"] == pytest.approx((301 - 210 + 50) / (3.004 - 2.005))


def test_a_snapshot_moments_after_the_first_has_no_rate_yet() -> None:
    from denet_tui.model import EMPTY_SYSCALLS, Snapshot, TargetStatus

    def snap(t: float, calls: int) -> Snapshot:
        p = proc(1, 0, syscalls=calls)
        return Snapshot(t, t, TargetStatus(1, "running"), (p,), EMPTY_SYSCALLS)

    tl = Timeline(exact=True, share_basis="count", min_dt=0.5)
    tl.add(snap(0.017, 24))
    tl.add(snap(0.025, 171))  # 147 calls in 8 ms is not 18,000 calls a second
    assert tl.process_rates[1]["syscalls"] is None
    assert [r["syscalls"] for r in tl.series] == [None]
    assert tl.previous is None and tl.syscalls()[1] is None


def test_a_command_we_ran_is_measured_from_its_start() -> None:
    """What the tree did before the first snapshots is in the first rate (a trial: a 100 MiB
    write done by the first snapshot showed as one 46 MiB/s point, or none)."""
    from denet_tui.model import EMPTY_SYSCALLS

    def snap(t: float, wrote: int) -> Snapshot:
        p = proc(1, 0, write_bytes=wrote, cpu_time_s=wrote / 1e9)
        return Snapshot(t, t, TargetStatus(1, "running"), (p,), EMPTY_SYSCALLS)

    tl = Timeline(exact=True, share_basis="count", min_dt=0.5, started=True)
    tl.add(snap(0.1, 60_000_000))  # moments after the start: no rate yet
    assert list(tl.series) == []
    tl.add(snap(1.0, 100_000_000))
    assert tl.series[-1]["write_bytes"] == pytest.approx(100_000_000 / 1.0)  # from t=0
    assert tl.process_rates[1]["write_bytes"] == pytest.approx(100_000_000 / 1.0)
    tl.add(snap(2.0, 100_000_000))
    assert tl.series[-1]["write_bytes"] == 0
    # A run over before the wait: measured over the run (a 0.4 s command showed no rates).
    short = Timeline(exact=True, share_basis="count", min_dt=0.5, started=True)
    short.add(snap(0.01, 0))
    end = snap(0.4, 8_000_000)
    short.add(evolve(end, target=TargetStatus(1, "exited", exit_code=0)))
    assert short.series[-1]["write_bytes"] == pytest.approx(8_000_000 / 0.4)
    assert short.series[-1]["cpu_percent"] == pytest.approx(0.008 / 0.4 * 100)
    # Ended, every process: over the run from its start to its last end (the Summary's
    # elapsed), not from our start to the snapshot taken after it; the call rates alike.
    finished = TargetStatus(1, "exited", exit_code=0)
    over = Timeline(exact=True, share_basis="count", min_dt=0.5, started=True)
    over.add(snap(0.01, 0))
    done = evolve(end.processes[0], alive=False, start_ts=0.02, end_ts=0.32)  # (ts = t here)
    over.add(evolve(end, target=finished, processes=(done,)))
    assert over.series[-1]["write_bytes"] == pytest.approx(8_000_000 / 0.30)
    assert over.series[-1]["rss_bytes"] == 0  # nothing resident: not unknown
    assert over.syscalls()[2] == pytest.approx(0.30)
    # One end not dated (a lost exit record): from our start to the snapshot, not to the
    # latest known end (a child's, 10 ms in: 40 times the true rate).
    undated = Timeline(exact=True, share_basis="count", min_dt=0.5, started=True)
    child = evolve(proc(2, 1), alive=False, start_ts=0.001, end_ts=0.01)
    undated.add(evolve(end, target=finished, processes=(evolve(done, end_ts=None), child)))
    assert undated.series[-1]["write_bytes"] == pytest.approx(8_000_000 / 0.4)
    # A process listed only in a snapshot too soon to measure (it ended then: a snapshot lists
    # an ended process once) still counts in the next rate (a 0.4 s `ls` vanished from it).
    two = Timeline(exact=True, share_basis="count", min_dt=0.5, started=True)
    gone = evolve(proc(2, 1, write_bytes=3_000_000), alive=False)
    two.add(evolve(snap(0.05, 1_000_000), processes=(proc(1, 0, write_bytes=1_000_000), gone)))
    two.add(evolve(end, target=TargetStatus(1, "exited", exit_code=0)))
    assert two.series[-1]["write_bytes"] == pytest.approx(11_000_000 / 0.4)
    # Attached (or replayed without a start): no origin, as before.
    plain = Timeline(exact=True, share_basis="count", min_dt=0.5)
    plain.add(snap(0.6, 60_000_000))
    assert plain.series[-1]["write_bytes"] is None
