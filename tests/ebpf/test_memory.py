"""The memory family (each process's peak resident memory, the exact peak of the tree's summed
memory) and the sched family's page faults, checked against what the processes read of
themselves just before they exit (VmHWM, VmRSS, getrusage), with exit records off so the
families' own figures show."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from denet_tui.collectors.ebpf import collector as ebpf_collector

from .helpers import every_process, run_collected

pytestmark = pytest.mark.ebpf

# Touches argv[2] MiB of fresh pages, then writes what the kernel says of it (VmHWM, VmRSS,
# its faults) to argv[1], then frees them and exits.
TOUCH = """
import json, mmap, os, resource, sys
n = int(sys.argv[2]) << 20
m = mmap.mmap(-1, n)
for off in range(0, n, 4096):
    m[off] = 1
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
r = resource.getrusage(resource.RUSAGE_SELF)
json.dump({"pid": os.getpid(), "hwm": int(status["VmHWM"].split()[0]) * 1024,
           "rss": int(status["VmRSS"].split()[0]) * 1024,
           "minflt": r.ru_minflt, "majflt": r.ru_majflt}, open(sys.argv[1], "w"))
m.close()
"""


@pytest.fixture
def no_exit_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """The collector without taskstats: an ended process's figures are the families'."""
    monkeypatch.setattr(ebpf_collector, "open_exit_records", lambda: (None, "off for this test"))


def test_each_process_peak_and_faults_are_its_own(tmp_path: Path, no_exit_records: None) -> None:
    own = tmp_path / "own"
    # A short-lived child touching 200 MiB, then twenty 1 ms children.
    script = f"{sys.executable} -c '{TOUCH}' {own} 200; for i in $(seq 20); do /bin/true; done"
    _, snaps = run_collected(["sh", "-c", script])
    everyone = every_process(snaps)
    truth = json.loads(own.read_text())
    (toucher,) = [p for p in everyone if p.pid == truth["pid"]]
    assert toucher.peak_rss_bytes == pytest.approx(truth["hwm"], rel=0.02)
    # It read its faults before it freed the pages and exited: ours are at least those, and
    # at most a few hundred more (its exit).
    assert truth["minflt"] <= toucher.minor_faults <= truth["minflt"] + 300, toucher
    assert toucher.major_faults is not None
    trues = [p for p in everyone if p.name == "true"]
    assert len(trues) == 20
    for p in trues:
        # A 1 ms process: /proc never read it; its peak and faults are the kernel's.
        assert p.peak_rss_bytes is not None and p.peak_rss_bytes > 100_000, p
        assert p.minor_faults is not None and p.minor_faults > 10, p


# The parent holds 64 MiB and runs a child that touches 150 MiB and exits at once (between two
# samples): the sum's peak is the parent's RSS plus the child's at its peak.
HOLDER = """
import json, mmap, subprocess, sys
m = mmap.mmap(-1, 64 << 20)
for off in range(0, 64 << 20, 4096):
    m[off] = 1
subprocess.run([sys.executable, "-c", sys.argv[3], sys.argv[2], "150"], check=True)
status = dict(l.split(":", 1) for l in open("/proc/self/status"))
json.dump({"rss": int(status["VmRSS"].split()[0]) * 1024}, open(sys.argv[1], "w"))
"""


def test_the_sum_peak_is_exact_not_sampled(tmp_path: Path, no_exit_records: None) -> None:
    parent, child = tmp_path / "parent", tmp_path / "child"
    last, snaps = run_collected(
        [sys.executable, "-c", HOLDER, str(parent), str(child), TOUCH], interval=1.0
    )
    truth = json.loads(parent.read_text())["rss"] + json.loads(child.read_text())["rss"]
    assert last.memory is not None
    assert last.memory.rss_sum_peak_bytes == pytest.approx(truth, rel=0.02)
    assert last.totals.rss_sum_peak_bytes == last.memory.rss_sum_peak_bytes
    assert last.memory.rss_sum_bytes == 0  # everyone has ended: nothing is resident
    assert max(s.memory.rss_sum_bytes for s in snaps if s.memory) <= truth * 1.02


def test_the_launcher_is_not_the_command(no_exit_records: None) -> None:
    # Run mode's gated child is a copy of the monitor until its exec replaces its memory (the
    # syscalls family opens the gate at execve's entry, while the old memory is still in place).
    last, snaps = run_collected(["/bin/true"])
    (true,) = every_process(snaps)
    assert true.peak_rss_bytes is not None and true.peak_rss_bytes < 4 << 20, true
    assert last.memory is not None
    assert last.memory.rss_sum_peak_bytes == true.peak_rss_bytes


def test_the_commands_faults_and_switches_count_from_its_exec() -> None:
    # Run mode's child is a copy of the monitor (Python) until its exec: the ~350 page faults
    # it made before are not the command's (a trial read 1,124 faults against time -v's 683).
    # `time`'s own child is a small C program's copy: its few faults before the exec are the
    # only difference the two may have (a few dozen); each run is compared with its own.
    import subprocess

    command = ["/usr/bin/python3", "-c", "pass"]
    ratios = []
    for _ in range(3):
        timed = subprocess.run(
            ["/usr/bin/time", "-f", "%R %w", *command], capture_output=True, text=True, check=True
        )
        faults, switches = map(int, timed.stderr.split()[-2:])
        _, snaps = run_collected(command)
        (root,) = every_process(snaps)
        assert root.minor_faults is not None and root.ctx_voluntary is not None
        assert root.ctx_voluntary <= switches + 1, (root, switches)
        ratios.append(root.minor_faults / faults)
    assert 0.85 <= sorted(ratios)[1] <= 1.02, ratios
