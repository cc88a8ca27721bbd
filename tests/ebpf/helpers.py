"""Shared by the eBPF tests: run a command under the real collector, or under strace -f -c."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from denet_tui.collectors.ebpf import EbpfCollector
from denet_tui.model import ProcessSample, Snapshot
from denet_tui.syscalls import TIMING_DEPENDENT
from denet_tui.target import ChildOutput, RunTarget

TIMING = TIMING_DEPENDENT  # what timing decides, and what strace never counts
# The syscalls family alone: loads in ~1.6 s where every family takes ~6 s, and detaches at once.
SYSCALLS = frozenset({"syscalls"})


def both_ways(family: str) -> pytest.MarkDecorator:
    """Run the test with ``probes``: the family alone (its shared programs on each call's own
    tracepoint), and with the syscalls family (whose raw programs then serve them)."""
    return pytest.mark.parametrize(
        "probes",
        [frozenset({family}), frozenset({family, "syscalls"})],
        ids=["own-tracepoints", "served-by-raw"],
    )


def run_collected(
    argv: list[str],
    *,
    latency: bool = True,
    interval: float = 0.2,
    timeout: float = 60.0,
    probes: frozenset[str] | None = None,
    release_after: float = 0.0,
) -> tuple[Snapshot, list[Snapshot]]:
    """Run ``argv`` gated under a fresh EbpfCollector, sampling every ``interval`` like the
    headless loop does; return the final snapshot (taken after the command ended) and all.
    ``probes``: the families to load (default: all); ``release_after``: seconds between the
    collector's start and the command's release (the screen's first frame comes between)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        target = RunTarget(argv, ChildOutput(stdout=devnull))
    finally:
        os.close(devnull)
    # Fewer families load faster; a child process detaches them (as at the end of a run:
    # ~40 ms a tracepoint, one after another), the tests that check unloading do it here.
    collector = EbpfCollector(latency=latency, probes=probes, detach_later=True)
    snaps: list[Snapshot] = []
    try:
        collector.start(target)
        time.sleep(release_after)
        target.release()
        deadline = time.monotonic() + timeout
        while not target.poll().finished:
            assert time.monotonic() < deadline, f"{argv} did not finish in {timeout}s"
            time.sleep(interval)
            snaps.append(collector.sample())
        snaps.append(collector.sample())
        return snaps[-1], snaps
    finally:
        collector.close()
        target.close()


def every_process(snaps: list[Snapshot]) -> list[ProcessSample]:
    """Each process ever reported, as last listed (a snapshot lists the live processes and
    those that ended since the one before)."""
    last: dict[tuple[int, float | None], ProcessSample] = {}
    for s in snaps:
        for p in s.processes:
            last[(p.pid, p.start_ts)] = p
    return list(last.values())


def strace_counts(argv: list[str], out: Path) -> dict[str, tuple[int, int]]:
    """{syscall: (calls, errors)} from ``strace -f -c`` on the same command."""
    strace = shutil.which("strace")
    assert strace, "strace is needed for the accuracy tests"
    subprocess.run(
        [strace, "-f", "-c", "-U", "name,calls,errors", "-o", str(out), "--", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )
    return parse_strace_c(out.read_text())


def parse_strace_c(text: str) -> dict[str, tuple[int, int]]:
    """Parse the ``-U name,calls,errors`` summary table (rows: name calls [errors])."""
    counts: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or parts[0].startswith("-") or parts[0] in ("syscall", "total"):
            continue
        if not parts[1].isdigit():
            continue
        errors = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        counts[parts[0]] = (int(parts[1]), errors)
    return counts


def loaded_prog_ids() -> set[int] | None:
    """Ids of every BPF program loaded on the machine (bpftool), or None without bpftool."""
    bpftool = shutil.which("bpftool") or shutil.which("bpftool", path="/usr/sbin:/sbin")
    if bpftool is None:
        return None
    out = subprocess.run(
        [bpftool, "prog", "show", "-j"], capture_output=True, check=True, timeout=30
    )
    return {p["id"] for p in json.loads(out.stdout or b"[]")}


def fd_prog_ids(pid: int | str = "self") -> set[int]:
    """Ids of the BPF programs a process holds open (from /proc/PID/fdinfo)."""
    ids: set[int] = set()
    base = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(base):
        try:
            with open(f"{base}/{fd}") as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def wait_unloaded(ids: set[int], timeout: float = 5.0) -> set[int]:
    """Programs of ``ids`` still loaded after up to ``timeout`` s (the kernel frees them
    asynchronously once the last fd is closed)."""
    deadline = time.monotonic() + timeout
    while True:
        loaded = loaded_prog_ids()
        left = ids & loaded if loaded is not None else set()
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)
