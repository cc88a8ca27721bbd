"""Schema 2 on: snapshots list the live and the newly ended; what ended earlier lives on in the
tree totals, the per-command summary and the subtree sums, each counted once."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from denet_tui.collectors.replay import ReplayCollector
from denet_tui.finished import FinishedLedger, command_key
from denet_tui.ledger import SyscallSums, TreeLedger
from denet_tui.model import (
    ProcessSample,
    ProcessSched,
    ProcessSyscalls,
    Snapshot,
    SyscallStat,
    SyscallTable,
    TargetStatus,
)
from denet_tui.rates import Timeline
from denet_tui.wire import TableElider, TableMemory


def proc(
    pid: int, ppid: int = 1, *, alive: bool = True, calls: int = 0, **kw: object
) -> ProcessSample:
    section = ProcessSyscalls(count=calls, by_name={"read": SyscallStat("file_io", count=calls)})
    kw.setdefault("cmdline", (f"/usr/bin/p{pid}",))
    return ProcessSample(pid=pid, ppid=ppid, name=f"p{pid}", alive=alive, syscalls=section, **kw)  # type: ignore[arg-type]


def snap(t: float, *procs: ProcessSample, ledger: TreeLedger | None = None) -> Snapshot:
    ledger = ledger or TreeLedger("count", exact=True)
    totals, summary = ledger.account(procs)
    return Snapshot(t, t, TargetStatus(1, "running"), procs, summary, {}, totals)


def test_tree_totals_keep_every_process_once() -> None:
    ledger = TreeLedger("count", exact=True)
    a = snap(1, proc(1, calls=5, cpu_time_s=1.0), proc(2, calls=7, cpu_time_s=0.5), ledger=ledger)
    assert a.totals.syscalls == 12 and a.totals.processes_seen == 2
    # 2 ends: listed once more with its final figures, then no more.
    b = snap(
        2,
        proc(1, calls=6, cpu_time_s=1.0),
        proc(2, alive=False, calls=9, cpu_time_s=0.75),
        ledger=ledger,
    )
    assert b.totals.syscalls == 15 and b.syscalls.total == 15
    c = snap(3, proc(1, calls=8, cpu_time_s=1.5), proc(3, calls=1), ledger=ledger)
    assert c.totals.syscalls == 8 + 9 + 1 == c.syscalls.total
    assert c.totals.cpu_time_s == pytest.approx(1.5 + 0.75)
    assert (c.totals.processes_seen, c.totals.processes_live, c.totals.processes_ended) == (3, 2, 1)
    assert c.syscalls.by_name["read"].count == 18
    # Process 3 has no CPU time: the total leaves it out, and says so.
    assert c.totals.unknown["cpu_time_s"] == 1
    # No process has read_bytes: no total, so nothing is a lower bound.
    assert c.totals.read_bytes is None and "read_bytes" not in c.totals.unknown
    assert "syscalls" not in c.totals.unknown


def test_command_key_names_scripts_and_subcommands_not_files() -> None:
    def key(*argv: str) -> str:
        return command_key(ProcessSample(pid=2, ppid=1, name="x", cmdline=argv, alive=False))

    assert key("/usr/bin/cc", "-c", "a.c", "-o", "a.o") == "cc"
    assert key("/usr/bin/cc", "-c", "b.c") == "cc"
    assert key("python3", "-u", "/src/setup.py", "build") == "python3 setup.py"
    assert key("git", "status") == "git status"
    # A command string: its first word (not an assignment, not exec), if a plain one.
    assert key("sh", "-c", "echo hi") == "sh -c echo"
    assert key("bash", "-ec", "sleep 1; exit 6") == "bash -c sleep"  # combined flags
    assert key("sh", "-c", "CC=gcc exec /usr/bin/gcc -c a.c") == "sh -c gcc"
    assert key("sh", "-c", "(cd x; make)") == "sh -c"  # not a plain word
    assert key("sh", "-c", "i=0; while [ $i -lt 9 ]; do i=$((i+1)); done") == "sh -c"
    assert key("sh", "/tmp/weird.sh") == "sh weird.sh"
    assert key("python3", "-W", "ignore", "slow.py") == "python3 slow.py"  # not the -W value
    assert key("python3", "-m", "pytest") == "python3"
    assert key("make", "-C", "/tmp/x", "-j4") == "make"  # the -C value is no subcommand
    assert key("make", "all") == "make all"
    # An option's value is no subcommand either (a trial: "make -C mk -j2" was "make mk").
    assert key("make", "-C", "mk", "-j2") == "make"
    assert key("make", "-f", "Makefile", "install") == "make install"
    assert key("git", "-C", "repo", "status") == "git status"
    assert key("kubectl", "-n", "prod", "get", "pods") == "kubectl get"
    assert key("/usr/bin/env", "bash") == "env bash"
    assert key("gzip", "big.txt") == "gzip"
    assert command_key(ProcessSample(pid=2, ppid=1, name="cc1", cmdline=(), alive=False)) == "cc1"


def test_finished_summary_by_command_with_failures_and_bounds() -> None:
    ledger = FinishedLedger(max_commands=2)
    ended = [
        proc(
            10,
            alive=False,
            cmdline=("cc", "-c", "a.c"),
            cpu_time_s=1.0,
            exit_code=0,
            start_ts=100.0,
            end_ts=101.0,
            peak_rss_bytes=10,
            sched=ProcessSched(1.0, 0.25, 0.5, 0.125, 3, 4),
        ),
        proc(
            11,
            alive=False,
            cmdline=("cc", "-c", "b.c"),
            cpu_time_s=3.0,
            exit_code=1,
            start_ts=100.0,
            end_ts=104.0,
            peak_rss_bytes=30,
            sched=ProcessSched(3.0, 0.5, 0.25, 0.0, 3, 4),
        ),
        proc(12, alive=False, cmdline=("ld", "-o", "x"), cpu_time_s=None, exit_code=None),
        proc(13, alive=False, cmdline=("as", "x.s")),
    ]
    ledger.add(snap(1, proc(1), *ended[:2]))
    ledger.add(snap(2, proc(1), *ended[2:]))
    s = ledger.summary()
    assert s.processes == 4 and s.other == 1  # "as" came after the limit of 2 commands
    cc, ld = s.commands
    assert (cc.command, cc.count, cc.failures) == ("cc", 2, 1)
    assert (cc.cpu_s_total, cc.cpu_s_max, cc.wall_s_max, cc.peak_rss_max) == (4.0, 3.0, 4.0, 30)
    assert dict(cc.exit_codes) == {"0": 1, "1": 1} and cc.incomplete == ()
    waits = (cc.waiting_cpu_s_total, cc.sleeping_s_total, cc.uninterruptible_s_total)
    assert waits == (0.75, 0.75, 0.125)
    assert ld.cpu_s_total is None and ld.waiting_cpu_s_total is None
    assert set(ld.incomplete) == {"cpu_s", "peak_rss", "wall_s", "sched"}
    assert dict(ld.exit_codes) == {"unknown": 1}
    # A death by signal is told from an exit with the same code.
    killed = FinishedLedger()
    killed.add(snap(3, proc(20, alive=False, cmdline=("sleep", "9"), exit_code=143,
                            killed_by_signal=15), proc(21, alive=False, cmdline=("sleep", "1"),
                            exit_code=143)))  # fmt: skip
    (sleeps,) = killed.summary().commands
    assert dict(sleeps.exit_codes) == {"143": 1, "143 SIGTERM": 1} and sleeps.failures == 2


def test_a_schema_1_recording_lists_the_ended_in_every_snapshot_counted_once() -> None:
    ledger = FinishedLedger()
    dead = proc(10, alive=False, cmdline=("cc",))
    for t in range(3):
        ledger.add(snap(t, proc(1), dead))
    assert ledger.summary().processes == 1


def test_without_exact_cpu_at_exit_a_commands_cpu_is_a_lower_bound() -> None:
    dead = replace(proc(10, alive=False, cmdline=("cc",)), cpu_time_s=0.5)
    for exact, marked in ((True, False), (False, True)):
        ledger = FinishedLedger(cpu_exact=exact)
        ledger.add(snap(1, proc(1), dead))
        (cc,) = ledger.summary().commands
        assert cc.cpu_s_total == 0.5 and ("cpu_s" in cc.incomplete) == marked


def test_unchanged_tables_are_left_out_of_the_stream_and_restored() -> None:
    elider, memory = TableElider(), TableMemory()
    same = proc(2, calls=5, start_ts=50.0)
    changed = proc(3, calls=1, start_ts=60.0)
    first = snap(1, same, changed)
    second = snap(2, same, proc(3, calls=2, start_ts=60.0))
    third = snap(3, same, proc(3, calls=2, start_ts=60.0))
    lines = [
        json.loads(elider.line(first)),
        json.loads(elider.line(second)),
        json.loads(elider.line(third)),
    ]
    for line in lines[1:]:  # unchanged: left out, every time
        assert line["processes"][0]["syscalls"]["by_name"] is None
    assert lines[1]["processes"][1]["syscalls"]["by_name"] is not None
    back = [memory.restore(Snapshot.from_dict(d)) for d in lines]
    assert back[2].processes[0].syscalls_by_name == same.syscalls_by_name
    assert back == [first, second, third]


def test_a_left_out_table_never_written_is_an_error() -> None:
    d = json.loads(TableElider().line(snap(1, proc(2, calls=5))))
    d["processes"][0]["syscalls"]["by_name"] = None
    with pytest.raises(ValueError, match="never written"):
        TableMemory().restore(Snapshot.from_dict(d))


def test_a_subtree_keeps_the_syscalls_of_its_long_ended_descendants() -> None:
    tl = Timeline(exact=True, share_basis="count")
    ledger = TreeLedger("count", exact=True)
    tl.add(snap(1, proc(1, 0, calls=1), proc(5, 1, calls=2), proc(6, 5, calls=3), ledger=ledger))
    tl.add(
        snap(
            2,
            proc(1, 0, calls=1),
            proc(5, 1, calls=2),
            proc(6, 5, alive=False, calls=4),
            ledger=ledger,
        )
    )
    tl.add(snap(3, proc(1, 0, calls=1), proc(5, 1, calls=2), ledger=ledger))  # 6 no longer listed
    tl.add(snap(4, proc(1, 0, calls=1), proc(5, 1, calls=2), ledger=ledger))
    tl.set_scope(5)
    now, _before, _dt = tl.syscalls()
    assert now is not None and now.total == 2 + 4
    tl.set_scope(None)
    now, _before, _dt = tl.syscalls()
    assert now is not None and now.total == 1 + 2 + 4


def test_a_schema_2_recording_replays_with_its_per_syscall_objects(repo_root: Path) -> None:
    # Recorded by the schema-2 denet-tui (eBPF, `sh` running cat and sleep three times).
    path = repo_root / "tests" / "data" / "small-v2-ebpf.jsonl"
    raw = [json.loads(line) for line in path.read_text().splitlines()]
    replay = ReplayCollector(str(path))
    assert replay.schema == 2
    snaps = []
    while (s := replay.step()) is not None:
        snaps.append(s)
    written = [r for r in raw if r["kind"] == "snapshot"]
    assert len(snaps) == len(written) == 5
    for snap, line in zip(snaps, written, strict=True):
        for p, d in zip(snap.processes, line["processes"], strict=True):
            objects = d["syscalls"]["by_name"]
            assert {n: s.count for n, s in p.syscalls_by_name.items()} == {
                n: o["count"] for n, o in objects.items()
            }
            assert all(p.syscalls_by_name[n].category == o["category"] for n, o in objects.items())
    # Written again, each table is the compact schema-3 form, and reads back the same.
    again = json.loads(TableElider().line(snaps[0]))
    cat = next(p for p in again["processes"] if p["name"] == "cat")["syscalls"]["by_name"]
    assert cat["execve"] == [1, 0, cat["execve"][2], None] and cat["execve"][2] > 0
    assert TableMemory().restore(Snapshot.from_dict(again)) == snaps[0]


@pytest.mark.parametrize("row", [[1, 0, 5], [1, 0, 5, -1], [1, "0", 5, None], "x"])
def test_a_malformed_syscall_row_is_a_one_line_error(row: object) -> None:
    d = json.loads(TableElider().line(snap(1, proc(2, calls=5))))
    d["processes"][0]["syscalls"]["by_name"] = {"read": row}
    with pytest.raises(ValueError, match="read|object"):
        Snapshot.from_dict(d)


def test_the_tree_peak_memory_is_the_largest_process_and_the_largest_sum() -> None:
    ledger = TreeLedger("count", exact=True)
    mib = 1 << 20
    a = snap(1, proc(1, rss_bytes=10 * mib, peak_rss_bytes=12 * mib), ledger=ledger)
    # The sum's peak is at least the largest process's own peak.
    assert (a.totals.peak_rss_max_bytes, a.totals.rss_sum_peak_bytes) == (12 * mib, 12 * mib)
    b = snap(
        2,
        proc(1, rss_bytes=5 * mib, peak_rss_bytes=12 * mib),
        proc(2, rss_bytes=30 * mib, peak_rss_bytes=40 * mib),
        ledger=ledger,
    )
    assert (b.totals.peak_rss_max_bytes, b.totals.rss_sum_peak_bytes) == (40 * mib, 40 * mib)
    b2 = snap(
        2.5,
        proc(1, rss_bytes=20 * mib, peak_rss_bytes=20 * mib),
        proc(2, rss_bytes=30 * mib, peak_rss_bytes=40 * mib),
        ledger=ledger,
    )
    assert (b2.totals.peak_rss_max_bytes, b2.totals.rss_sum_peak_bytes) == (40 * mib, 50 * mib)
    # 2 ended (listed once more, not alive: its RSS is no longer summed); both peaks stay.
    c = snap(
        3,
        proc(1, rss_bytes=6 * mib, peak_rss_bytes=12 * mib),
        proc(2, alive=False, rss_bytes=0, peak_rss_bytes=41 * mib),
        ledger=ledger,
    )
    assert (c.totals.peak_rss_max_bytes, c.totals.rss_sum_peak_bytes) == (41 * mib, 50 * mib)
    d = snap(4, proc(1, rss_bytes=6 * mib, peak_rss_bytes=12 * mib), ledger=ledger)
    assert (d.totals.peak_rss_max_bytes, d.totals.rss_sum_peak_bytes) == (41 * mib, 50 * mib)


def test_the_running_sums_equal_a_sum_over_every_last_listing() -> None:
    """Tables that grow in some rows and keep others unchanged; processes that end,
    vanish unlisted, or stay the same object: the ledger's sums, kept by difference, equal a
    sum made afresh over each process's last listing."""
    import random

    from denet_tui.ledger import summarize

    rng = random.Random(7)
    names = ["read", "write", "openat", "close", "mmap", "wait4", "clone"]
    ledger = TreeLedger("count", exact=True)
    last: dict[int, ProcessSample] = {}
    alive: dict[int, ProcessSample] = {}
    next_pid = 2
    for step in range(200):
        listed: list[ProcessSample] = []
        for pid, p in list(alive.items()):
            roll = rng.random()
            if roll < 0.3:
                listed.append(p)  # unchanged: the same object
                continue
            if roll < 0.35:
                del alive[pid]  # gone without being listed ended: its last listing stands
                continue
            # Counts only grow; some calls are new, some unchanged, some fail.
            counts = dict(p.syscalls_by_name.items())
            for n in rng.sample(names, rng.randrange(1, 4)):
                had = counts.get(n) or SyscallStat("file_io", count=0, errors=0)
                counts[n] = replace(
                    had,
                    count=(had.count or 0) + rng.randrange(1, 9),
                    errors=(had.errors or 0) + rng.randrange(2),
                )
            table = counts
            ends = roll > 0.85
            q = ProcessSample(
                pid=pid,
                ppid=1,
                name="p",
                cmdline=(),
                alive=not ends,
                cpu_time_s=rng.random(),
                write_bytes=rng.choice([None, rng.randrange(1000)]),
                syscalls=ProcessSyscalls(count=None, by_name=table),
            )
            listed.append(q)
            last[pid] = q
            if ends:
                del alive[pid]
            else:
                alive[pid] = q
        for _ in range(rng.randrange(4)):
            q = proc(next_pid, calls=rng.randrange(9), cpu_time_s=0.1)
            alive[next_pid] = last[next_pid] = q
            listed.append(q)
            next_pid += 1
        totals, summary = ledger.account(listed)
        every = list(last.values())
        fresh = summarize(every, "count", exact=True)
        assert summary.by_name == fresh.by_name, step
        assert summary.total == fresh.total
        assert totals.processes_seen == len(every) and totals.processes_live == len(alive)
        assert totals.cpu_time_s == pytest.approx(sum(p.cpu_time_s or 0 for p in every))
        known = [p.write_bytes for p in every if p.write_bytes is not None]
        assert totals.write_bytes == (sum(known) if known else None)
        assert totals.unknown.get("write_bytes", 0) == (len(every) - len(known) if known else 0)


@pytest.mark.parametrize("name", ["build-ebpf.jsonl", "build-procfs.jsonl", "touch-ebpf.jsonl"])
def test_a_snapshot_is_written_as_the_standard_library_would(repo_root: Path, name: str) -> None:
    """The fast writers (orjson) against ``json`` on the model's own encoding, on every
    snapshot and process of real recordings, and on hostile names."""
    from denet_tui.wire import model_text

    replay = ReplayCollector(str(repo_root / "tests" / "data" / name))
    seen = 0
    while not replay.finished:
        s = replay.sample()
        # A new writer for each: every table is written (none left out as unchanged).
        assert json.loads(TableElider().line(s)) == json.loads(json.dumps(s.to_dict()))
        for p in s.processes:
            assert json.loads(model_text(p)) == json.loads(json.dumps(p.to_dict())), p.pid
            seen += 1
    assert seen > 15  # (processes listed in the recording: every one checked)
    odd = replace(proc(9), name="bad\udcff[bold]\x1b[31m", cmdline=("a\nb", "\\xff"))
    assert json.loads(model_text(odd)) == json.loads(json.dumps(odd.to_dict()))


def test_syscall_sums_follow_a_table_as_it_changes() -> None:
    sums = SyscallSums()
    was = SyscallTable([("read", "file_io", 3, 1, 9, None), ("close", "file_io", 2, 0, 1, None)])
    now = SyscallTable([("read", "file_io", 5, 1, 12, None), ("openat", "file_io", 1, 1, 4, None)])
    sums.add(was)
    sums.add_change(was, now)
    alone = SyscallSums()
    alone.add(now)
    # What a table no longer has is taken out (a name stays, at zero); the rest is the new one's.
    assert sums.values == {**alone.values, "close": [0, 0, 0, None]}
