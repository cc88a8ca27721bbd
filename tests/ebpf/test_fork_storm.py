"""A shell spawning 1,000 short-lived children: every one is followed and counted."""

from __future__ import annotations

import pytest

from .helpers import run_collected

pytestmark = pytest.mark.ebpf

N = 1000
STORM = ["sh", "-c", f"i=0; while [ $i -lt {N} ]; do /bin/true; i=$((i+1)); done"]


@pytest.mark.parametrize("latency", [True, False], ids=["latency", "no-latency"])
def test_every_child_counted(latency: bool) -> None:
    snap, snaps = run_collected(STORM, latency=latency, interval=0.25)

    root = snap.process(snap.target.pid)
    assert root is not None and root.name == "sh"
    children = [p for p in snap.processes if p.pid != root.pid]
    assert len({p.pid for p in children}) == N  # (pid_max is large enough here to not wrap)
    assert len(children) == N
    for p in children:
        assert p.name == "true", p
        assert p.ppid == root.pid
        assert not p.alive
        assert p.syscalls_by_name["execve"].count == 1
        assert p.syscalls_by_name["execve"].errors == 0
        assert p.syscalls and p.syscalls > 10
        if latency:
            assert p.syscalls_by_name["exit_group"].count == 1

    by_name = snap.syscalls.by_name
    assert by_name["execve"].count == N + 1
    assert by_name["vfork"].count + by_name.get("clone", by_name["vfork"]).count >= N
    assert snap.syscalls.total == sum(p.syscalls for p in snap.processes)
    assert snap.diagnostics["lost"] == 0
    assert snap.diagnostics["procs_full"] == 0
    # Ended processes leave the kernel maps once read: a long session does not fill them.
    assert max(s.diagnostics["kernel_procs"] for s in snaps) < N
    assert snap.diagnostics["kernel_stats"] < 20 * N
    # Sampled while it ran: cumulative counters never go backwards.
    totals = [s.syscalls.total for s in snaps]
    assert totals == sorted(totals)
