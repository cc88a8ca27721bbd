"""A shell spawning 1,000 short-lived children: every one is followed and counted."""

from __future__ import annotations

import pytest

from .helpers import every_process, run_collected

pytestmark = pytest.mark.ebpf

N = 1000
STORM = ["sh", "-c", f"i=0; while [ $i -lt {N} ]; do /bin/true; i=$((i+1)); done"]


@pytest.mark.parametrize("latency", [True, False], ids=["latency", "no-latency"])
def test_every_child_counted(latency: bool) -> None:
    snap, snaps = run_collected(STORM, latency=latency, interval=0.25)
    everyone = every_process(snaps)

    (root,) = [p for p in everyone if p.pid == snap.target.pid]
    assert root.name == "sh" and root.exit_code == 0
    children = [p for p in everyone if p.pid != root.pid]
    assert len({p.pid for p in children}) == N  # (pid_max is large enough here to not wrap)
    assert len(children) == N
    for p in children:
        assert p.name == "true", p
        assert p.ppid == root.pid
        assert not p.alive
        assert p.syscalls_by_name["execve"].count == 1
        assert p.syscalls_by_name["execve"].errors == 0
        assert p.syscalls and p.syscalls.count and p.syscalls.count > 10
        assert p.exit_code == 0 and p.start_ts and p.end_ts and p.end_ts >= p.start_ts
        if latency:
            # (Failed once in CI, one child in 1,000, not reproduced since: say what was seen.)
            got = dict(p.syscalls_by_name.items())
            assert "exit_group" in got and got["exit_group"].count == 1, (p, snap.diagnostics)
        # Each one's final figures: the kernel's exit record, however short it lived.
        assert p.cpu_time_s is not None and p.peak_rss_bytes and p.minor_faults
        # Only what an exit record cannot give (and rounds down: read/write call counts, and
        # I/O bytes it says 0 of: under 1,024).
        rounded = {"read_syscalls", "write_syscalls", "read_chars", "write_chars"}
        assert set(p.null_reasons) <= {"threads", *rounded}

    by_name = snap.syscalls.by_name
    assert by_name["execve"].count == N + 1
    assert by_name["vfork"].count + by_name.get("clone", by_name["vfork"]).count >= N
    assert snap.syscalls.total == sum(p.syscalls.count for p in everyone if p.syscalls)
    # Each snapshot lists the live processes and those that ended since the one before.
    reported = [(p.pid, p.start_ts) for s in snaps for p in s.processes if not p.alive]
    assert len(reported) == len(set(reported)) == N + 1
    assert snap.totals.processes_seen == N + 1
    assert snap.diagnostics["lost"] == 0
    assert snap.diagnostics["procs_full"] == 0
    # Ended processes leave the kernel maps once read: a long session does not fill them.
    assert max(s.diagnostics["kernel_procs"] for s in snaps) < N
    assert snap.diagnostics["kernel_stats"] < 20 * N
    # Sampled while it ran: cumulative counters never go backwards.
    totals = [s.syscalls.total for s in snaps]
    assert totals == sorted(totals)
