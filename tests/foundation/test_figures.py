"""Figures checked against what the program itself did (an independent truth), on real runs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from denet_tui.collectors.proc_reader import ProcessTable

from .conftest import run_json, snapshots

RUN = ("run", "--json", "--collector", "procfs", "--interval", "0.25", "--")
BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n{after}"


def test_a_first_reading_has_the_cpu_rate_since_the_process_started() -> None:
    child = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.4, after="time.sleep(30)")])
    try:
        time.sleep(0.8)
        with open(f"/proc/{child.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        (sample,), _ended = ProcessTable().update([child.pid])
        assert sample.cpu_time_s is not None and sample.cpu_time_s >= 0.4
        assert sample.cpu_percent is not None
        # The burn over the child's age (about 0.8 s): far from 0, and no more than one core.
        assert 30 < sample.cpu_percent <= 100, (sample.cpu_percent, fields[11:13])
    finally:
        child.kill()
        child.wait()


def test_a_child_new_in_the_first_snapshot_has_a_cpu_rate() -> None:
    burn = BURN.format(s=0.3, after="time.sleep(0.5)")
    # It starts halfway between two readings (0.5 s apart): when first read, it has run.
    run = (*RUN[:-2], "0.5", "--")
    code, lines, _ = run_json(*run, "sh", "-c", f"sleep 0.72; {sys.executable} -c '{burn}'; true")
    seen = [
        [p for p in snap["processes"] if p["name"].startswith("python")]
        for snap in snapshots(lines)
    ]
    first = next(found for found in seen if found)  # the snapshot where the child is new
    assert code == 0
    assert first[0]["cpu_percent"] is not None and first[0]["cpu_percent"] > 20
    # The root is read once it has exec'd: the command, never our forked copy of Python.
    assert snapshots(lines)[0]["processes"][0]["name"] == "sh"


def test_disk_and_logical_io_are_told_apart() -> None:
    # dd copies 64 MiB from /dev/zero to /dev/null: 64 MiB through read() and write(), no disk.
    mib64 = 64 * 1024 * 1024
    code, lines, _ = run_json(
        *RUN, "dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=64", "status=none"
    )
    (dd,) = snapshots(lines)[-1]["processes"]
    assert code == 0
    assert dd["write_chars"] == mib64  # all it wrote: the copy
    assert dd["read_chars"] >= mib64
    # None of it reached a disk (a loaded run once showed one page, 4096 bytes, that the
    # kernel put down to dd: not the 64 MiB).
    assert dd["write_bytes"] <= 65536 and dd["read_bytes"] is not None


def test_the_root_keeps_its_command_line_after_it_exits() -> None:
    code, lines, _ = run_json(*RUN, "sleep", "0.3")
    last = snapshots(lines)[-1]["processes"][0]
    assert code == 0 and not last["alive"]
    assert last["cmdline"] == ["sleep", "0.3"]


def test_a_stopped_command_is_shown_stopped() -> None:
    code, lines, _ = run_json(
        *RUN[:-1], "--duration", "1", "--", "sh", "-c", "kill -STOP $$; exit 0"
    )
    snaps = snapshots(lines)
    stopped = [s for s in snaps if s["target"]["status"] == "stopped"]
    assert stopped, [s["target"] for s in snaps]
    assert stopped[0]["processes"][0]["state"] == "T"
    # At the time limit it is stopped like any other: resumed to act on SIGINT.
    assert code == 124 and lines[-1]["ended_by"] == "time_limit"
    assert lines[-1]["signal"] == 2


def test_a_root_that_ends_at_once_has_its_own_command_line() -> None:
    # Not the gated child's (a fork of denet-tui) read before its exec.
    for argv in (["true"], ["sh", "-c", "exit 3"]):
        _, lines, _ = run_json(*RUN, *argv)
        root = snapshots(lines)[-1]["processes"][0]
        assert root["cmdline"] == argv and root["name"] == argv[0]


def test_bytes_that_are_not_text_in_a_name_are_shown_as_escapes() -> None:
    rename = (
        "import ctypes, time\n"
        "ctypes.CDLL(None).prctl(15, b'\\x9bodd\\xff', 0, 0, 0)\n"
        "time.sleep(0.6)"
    )
    _, lines, _ = run_json(*RUN, sys.executable, "-c", rename)
    names = {p["name"] for s in snapshots(lines) for p in s["processes"]}
    assert "\\x9bodd\\xff" in names, names


def test_a_live_process_cpu_time_is_the_schedulers_to_the_nanosecond() -> None:
    # 20 sleeps: each ran about a millisecond, under one clock tick (10 ms) of utime + stime.
    kids = [subprocess.Popen(["sleep", "30"]) for _ in range(20)]
    try:
        time.sleep(0.3)
        live, _ = ProcessTable().update([k.pid for k in kids])
        for k, sample in zip(kids, live, strict=True):
            with open(f"/proc/{k.pid}/schedstat") as f:
                on_cpu = int(f.read().split()[0]) / 1e9  # its own, read after ours
            assert 0 < sample.cpu_time_s <= on_cpu  # not 0: not rounded to ticks
            assert sample.cpu_time_s == on_cpu  # asleep since: not a nanosecond more
    finally:
        for k in kids:
            k.kill()
            k.wait()


@pytest.mark.parametrize("collector", ["procfs", pytest.param("ebpf", marks=pytest.mark.ebpf)])
def test_a_process_that_stopped_running_shows_no_cpu_rate(collector: str) -> None:
    # The shell burns for a moment, then waits for `sleep` without running: once a snapshot
    # interval has passed, its rate is 0, not the rate of the interval when it last ran.
    script = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 2.5"
    run = ("run", "--json", "--collector", collector, "--interval", "0.25", "--")
    code, lines, err = run_json(*run, "sh", "-c", script)
    assert code == 0, err
    rates = [
        p["cpu_percent"]
        for snap in snapshots(lines)
        for p in snap["processes"]
        if p["name"] == "sh" and p["alive"]
    ]
    assert max(rates) > 20, rates  # it did burn
    assert rates[-4:] == [0.0] * 4, rates  # the last second: waiting
