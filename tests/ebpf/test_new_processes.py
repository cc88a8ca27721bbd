"""A process followed from its fork, with the sched and memory families: its status files are
not read (the families give its switches and peak). Its figures in its first snapshots against
what it reads of itself; its CPU % in its second snapshot is that interval's."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .helpers import run_collected

pytestmark = pytest.mark.ebpf

# Burns CPU, touches 100 MiB and writes 1 MiB, then writes what it reads of itself (its CPU
# time, VmRSS, wchar) to argv[1] and sleeps through the next snapshots.
WORKLOAD = """
import json, os, resource, sys, time
t = time.process_time()
while time.process_time() - t < 0.25:
    pass
m = bytearray(100 << 20)
for off in range(0, len(m), 4096):
    m[off] = 1
with open(os.devnull, "wb") as f:
    f.write(bytes(1 << 20))
r = resource.getrusage(resource.RUSAGE_SELF)
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
io = dict(l.split(":", 1) for l in open("/proc/self/io"))
json.dump({"pid": os.getpid(), "cpu": r.ru_utime + r.ru_stime,
           "rss": int(status["VmRSS"].split()[0]) * 1024, "wchar": int(io["wchar"])},
          open(sys.argv[1], "w"))
time.sleep(2.5)
"""


def test_a_new_process_has_every_figure_from_its_first_snapshot(tmp_path: Path) -> None:
    own = tmp_path / "own"
    # "; true": the shell forks it (a shell may exec a last command in its own place).
    script = f"{sys.executable} -c '{WORKLOAD}' {own}; true"
    _, snaps = run_collected(["sh", "-c", script], interval=1.0)
    truth = json.loads(own.read_text())
    written = own.stat().st_mtime
    listed = [(s, p) for s in snaps for p in s.processes if p.pid == truth["pid"] and p.alive]
    assert len(listed) >= 2, listed
    (first_snap, first), (_, second) = listed[0], listed[1]
    # Sampled every second from its start: it had done its work a good half second before.
    assert first_snap.ts > written
    # Its first snapshot: /proc's figures and the families', nothing missing.
    assert first.state in ("S", "R") and first.threads == 1
    assert first.rss_bytes == pytest.approx(truth["rss"], rel=0.02)
    assert truth["wchar"] <= first.write_chars <= truth["wchar"] + 4096  # + its JSON
    assert first.cpu_time_s == pytest.approx(truth["cpu"], abs=0.02)
    assert first.cpu_percent is not None and first.cpu_percent > 10
    for figure in ("runq_wait_s", "ctx_voluntary", "peak_rss_bytes", "read_syscalls"):
        assert getattr(first, figure) is not None, (figure, first.null_reasons)
    assert first.cmdline[:2] == (sys.executable, "-c")  # its exec's arguments, from the kernel
    # Its second: it slept through the interval, so its CPU % is about 0 (not its average
    # since it started).
    assert second.cpu_percent is not None and second.cpu_percent < 2, second
    assert second.write_chars == first.write_chars
    assert second.rss_bytes == pytest.approx(truth["rss"], rel=0.02)
