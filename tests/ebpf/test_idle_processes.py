"""An idle process is not read again (the kernel marks the processes whose threads changed,
see `active` in bpf/tree.bpf.h), yet its figures stay exact: a burst of calls shows in full
while the process sleeps afterwards, a thread that ended while its process idles is counted
once (in the maps of ended threads, not also in a kept copy of its state), and a thread made
while the process slept is read too."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from denet_tui.collectors.ebpf import EbpfCollector
from denet_tui.target import ChildOutput, RunTarget

from .helpers import SYSCALLS

# Marker files say when each phase's burst is done; the process then sleeps through samples.
WORKLOAD = """
import os, sys, threading, time
d = sys.argv[1]
def burst(n):
    for _ in range(n):
        os.getppid()
def done(phase):
    open(os.path.join(d, phase), "w").close()
    time.sleep(2.0)
done("0")
burst(500)
done("1")
def worker():
    burst(700)
    open(os.path.join(d, "2"), "w").close()
t = threading.Thread(target=worker)
t.start()
time.sleep(2.5)  # only the other thread calls, then ends, while this one sleeps
t.join()
burst(300)
done("3")
def idle_worker():
    burst(800)
    done("4")  # this thread sleeps; the main one waits for it
t = threading.Thread(target=idle_worker)
t.start()
t.join()
"""
EXPECTED = {"1": 500, "2": 1200, "3": 1500, "4": 2300}  # getppid calls beyond phase 0's


@pytest.mark.parametrize("latency", [True, False])
def test_a_sleeping_process_shows_its_last_burst_exactly(latency: bool, tmp_path: Path) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        target = RunTarget([sys.executable, "-c", WORKLOAD, str(tmp_path)], ChildOutput(devnull))
    finally:
        os.close(devnull)
    seen: dict[str, list[int]] = {}  # phase -> getppid counts sampled while it sleeps
    with EbpfCollector(latency=latency, probes=SYSCALLS) as collector:
        try:
            collector.start(target)
            target.release()
            deadline = time.monotonic() + 60
            phase, since = None, 0.0
            while not target.poll().finished:
                assert time.monotonic() < deadline
                time.sleep(0.2)
                snap = collector.sample()
                done = sorted(p.name for p in tmp_path.iterdir())
                if done and done[-1] != phase:
                    phase, since = done[-1], time.monotonic()
                root = snap.process(target.pid)
                if phase is None or root is None or not root.alive:
                    continue
                if 0.5 < time.monotonic() - since < 1.6:  # well into its sleep, not past it
                    st = root.syscalls.by_name.get("getppid") if root.syscalls else None
                    seen.setdefault(phase, []).append(st.count if st else 0)
        finally:
            target.close()
    assert set(seen) == {"0", *EXPECTED}, seen
    base = seen["0"][0]
    assert set(seen["0"]) == {base}
    for phase, extra in EXPECTED.items():
        # Every sample taken while it slept: several of them, each exact.
        assert len(seen[phase]) >= 3, seen
        assert set(seen[phase]) == {base + extra}, (phase, base, seen)
