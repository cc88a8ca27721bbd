"""attach: the PID, its existing descendants and threads, and everything they start from then on."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from denet_tui.collectors.ebpf import EbpfCollector
from denet_tui.target import AttachTarget

from .helpers import SYSCALLS

pytestmark = pytest.mark.ebpf

SCRIPT = textwrap.dedent(
    """
    import os, subprocess, sys, threading, time
    sleeper = subprocess.Popen(["sleep", "60"])
    def spin():
        while True:
            os.getppid()
            time.sleep(0.002)
    threading.Thread(target=spin, daemon=True).start()
    print(sleeper.pid, flush=True)
    sys.stdin.readline()  # attached: go
    for _ in range(20):
        subprocess.run(["/bin/true"])
    print("done", flush=True)
    sys.stdin.readline()
    sleeper.kill()
    """
)


def test_attach_follows_existing_and_new_processes() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        sleeper = int(proc.stdout.readline())
        time.sleep(0.1)
        with EbpfCollector(latency=True, probes=SYSCALLS) as c:
            target = AttachTarget(proc.pid)
            c.start(target)
            first = c.sample()
            assert {proc.pid, sleeper} <= {p.pid for p in first.processes}
            proc.stdin.write("go\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "done"
            time.sleep(0.3)
            snap = c.sample()
        root = snap.process(proc.pid)
        assert root is not None and root.alive
        assert root.syscalls_by_name["getppid"].count > 10  # the spinning thread, by tgid
        trues = [p for p in snap.processes if p.name == "true"]
        assert len(trues) == 20
        assert all(p.ppid == proc.pid and not p.alive for p in trues)
        assert all(p.syscalls_by_name["execve"].count == 1 for p in trues)
        s = snap.process(sleeper)
        assert s is not None and s.alive and s.name == "sleep"
        assert snap.target.status == "running"  # attach never stops the target
        assert snap.diagnostics["lost"] == 0
        # Counters never go backwards between samples of the same process.
        before = first.process(proc.pid)
        assert root.syscalls and before and before.syscalls
        assert (root.syscalls.count or 0) >= (before.syscalls.count or 0)
    finally:
        proc.stdin.write("end\n")
        proc.stdin.flush()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize(
    ("script", "status", "code", "sig"),
    [("sleep 0.5; exit 3", "exited", 3, None), ("sleep 0.5; kill -TERM $$", "killed", 143, 15)],
)
def test_an_attached_roots_end_is_the_kernels(
    script: str, status: str, code: int, sig: int | None
) -> None:
    # Not our child (its status is not ours to wait for): the kernel saw how it ended.
    with EbpfCollector(latency=True) as c:
        proc = subprocess.Popen(["sh", "-c", script])
        try:
            time.sleep(0.1)
            c.start(AttachTarget(proc.pid))
            c.sample()
            proc.wait(timeout=10)
            time.sleep(0.2)
            ended = c.sample()
            later = c.sample()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    root = ended.process(proc.pid)
    assert root is not None and not root.alive
    assert (root.exit_code, root.killed_by_signal) == (code, sig)
    for snap in (ended, later):
        t = snap.target
        assert (t.status, t.exit_code, t.signal) == (status, code, sig)
