#!/usr/bin/env python3
"""What each of denet-tui's BPF programs costs, from the kernel's own accounting.

Wall-time ratios on a shared two-CPU machine vary by ±20 % from one repetition to the next
(see bench_overhead.py), so they cannot show whether a probe family adds 3 % or 8 %. The kernel
can: with ``kernel.bpf_stats_enabled=1`` it counts every BPF program's runs and the time spent
in them (``bpftool prog show``). For each workload of bench_overhead.py, and each setting:

  watched    ``denet-tui run --json`` runs the workload (every family)
  neighbour  the workload runs bare while denet-tui watches an unrelated ``sleep``: what every
             other process on the machine pays
  floor      the workload runs bare beside empty programs on the same tracepoints

it reads the programs' counters just before and just after the workload, and prints per program
its runs, ns per run, and its time as a share of the workload's own CPU time (user + system,
which the programs run inside). Per run, the accounting itself and the tracepoint's dispatch
cost something too: the floor's ns per run on the same tracepoint is that part, so a program's
"body" (ns per run above the floor) is what its code costs, and "as run" (with the floor's
part) is an upper bound of what it adds. The families' rows sum their programs: ``syscalls``
(the raw syscall tracepoints), ``sched`` (sched_switch, sched_wakeup, sched_wakeup_new),
``memory`` (kmem:rss_stat), ``files`` (the open, unlink, mkdir, rename, truncate calls'
tracepoints), ``exec``, ``signals``, ``privileges`` (cap_capable and the privileged calls'
tracepoints), ``network`` (the sock tracepoints) and ``disk`` (the block ones); the process
tree's own programs (fork, exec, exit) run once per process and are listed apart.

Needs root, BCC and bpftool.
    sudo .venv/bin/python benchmarks/bench_bpf_cost.py [--workloads pingpong,faults,loop]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_overhead import REPO, denet, empty_all, tar_output, workloads  # noqa: E402

from denet_tui.collectors.ebpf.families import FAMILIES as SOURCES  # noqa: E402

STATS_SYSCTL = Path("/proc/sys/kernel/bpf_stats_enabled")
# The tracepoint each program is on, as bpftool names it (BCC's names), and its family; a
# program serving several calls (SHARED_ENTER, SHARED_EXIT) goes by its own name (the family's
# `shared`).
FAMILIES = {
    **{s.program: name for name, family in SOURCES.items() for s in family.shared},
    "sys_enter": "syscalls",
    "sys_exit": "syscalls",
    "sched_switch": "sched",
    "sched_wakeup": "sched",
    "sched_wakeup_new": "sched",
    "rss_stat": "memory",
    "sock_send_length": "network",
    "sock_recv_length": "network",
    "inet_sock_set_state": "network",
    "block_io_start": "disk",
    "block_io_done": "disk",
    "signal_generate": "signals",
    "signal_deliver": "signals",
    "cap_capable": "privileges",
}

Counters = dict[int, tuple[str, int, int]]  # program id -> (tracepoint, runs, ns)


def tracepoint_of(name: str) -> str:
    """``tracepoint__sched__sched_switch`` -> ``sched_switch``; ``kmem__rss_stat`` ->
    ``rss_stat``; ``sys_enter`` stays."""
    return name.rsplit("__", 1)[-1]


def counters() -> Counters:
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, check=True)
    return {
        p["id"]: (tracepoint_of(p.get("name", "?")), p.get("run_cnt", 0), p.get("run_time_ns", 0))
        for p in json.loads(out.stdout)
    }


@contextlib.contextmanager
def bpf_stats() -> Iterator[None]:
    before = STATS_SYSCTL.read_text()
    STATS_SYSCTL.write_text("1")
    try:
        yield
    finally:
        STATS_SYSCTL.write_text(before)


def delta(before: Counters, after: Counters, ours: set[int]) -> dict[str, tuple[int, int]]:
    """Runs and ns per tracepoint, of programs ``ours``, between two readings."""
    out: dict[str, tuple[int, int]] = {}
    for pid in ours & before.keys() & after.keys():
        tp, runs, ns = after[pid]
        runs0, ns0 = before[pid][1:]
        got = out.get(tp, (0, 0))
        out[tp] = (got[0] + runs - runs0, got[1] + ns - ns0)
    return out


def wait_for(path: Path, proc: subprocess.Popen[bytes], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size > 0):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{what}: did not happen")
        time.sleep(0.02)


def watched(
    argv: list[str], scratch: Path, res: Path, *extra: str
) -> tuple[dict[str, tuple[int, int]], float]:
    """The workload as denet-tui's command (``extra``: its options): its programs' counters over
    the workload alone (the command waits at a gate until the first reading is taken)."""
    go = scratch / "go"
    for stale in (go, res, scratch / "denet.jsonl"):  # the last run's
        stale.unlink(missing_ok=True)
    gate = 'while [ ! -e "$0" ]; do sleep 0.02; done; exec "$@"'
    known = set(counters())
    mon = subprocess.Popen(
        [*denet(*extra)(scratch), "sh", "-c", gate, str(go), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        cwd=scratch,
    )
    try:
        wait_for(scratch / "denet.jsonl", mon, "denet-tui armed")
        before = counters()
        go.touch()
        wait_for(res, mon, "the workload's end")
        after = counters()
    finally:
        mon.wait(timeout=60)
    return delta(before, after, set(after) - known), float(res.read_text().split()[1])


def beside(
    ctx: contextlib.AbstractContextManager[None], argv: list[str], scratch: Path, res: Path
) -> tuple[dict[str, tuple[int, int]], float]:
    """The workload run bare while ``ctx`` holds programs loaded."""
    res.unlink(missing_ok=True)
    known = set(counters())
    with ctx:
        before = counters()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=scratch)
        after = counters()
    return delta(before, after, set(after) - known), float(res.read_text().split()[1])


@contextlib.contextmanager
def denet_elsewhere(scratch: Path) -> Iterator[None]:
    """denet-tui watching an unrelated ``sleep``, armed."""
    other = scratch / "elsewhere"
    other.mkdir(exist_ok=True)
    (other / "denet.jsonl").unlink(missing_ok=True)  # the last run's
    mon = subprocess.Popen(
        [*denet()(other), "sleep", "600"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    try:
        wait_for(other / "denet.jsonl", mon, "denet-tui (elsewhere) armed")
        yield
    finally:
        mon.send_signal(signal.SIGINT)
        mon.wait(timeout=30)


def report(name: str, got: dict[str, tuple[int, int]], floor: dict[str, tuple[int, int]],
           cpu_s: float) -> None:  # fmt: skip
    print(f"\n{name}: the workload's own CPU time {cpu_s * 1e3:,.0f} ms")
    print(f"  {'program (tracepoint)':<22}{'runs':>12}{'ns/run':>9}{'floor':>8}"
          f"{'body ms':>10}{'body %':>8}{'as run %':>10}")  # fmt: skip
    by_family: dict[str, list[float]] = {}
    for tp, (runs, ns) in sorted(got.items(), key=lambda kv: -kv[1][1]):
        if not runs:
            continue
        f_runs, f_ns = floor.get(tp, (0, 0))
        floor_per = f_ns / f_runs if f_runs else 0.0
        body_ns = max(0.0, ns - floor_per * runs)
        per = ns / runs
        print(
            f"  {tp:<22}{runs:>12,}{per:>9.0f}{floor_per:>8.0f}{body_ns / 1e6:>10.1f}"
            f"{body_ns / 1e9 / cpu_s * 100:>7.1f}%{ns / 1e9 / cpu_s * 100:>9.1f}%"
        )
        family = FAMILIES.get(tp, "tree (per process)")
        acc = by_family.setdefault(family, [0.0, 0.0])
        acc[0] += body_ns
        acc[1] += ns
    for family, (body, ns) in sorted(by_family.items()):
        print(
            f"  = {family:<20} body {body / 1e9 / cpu_s * 100:5.1f}% · "
            f"as run {ns / 1e9 / cpu_s * 100:5.1f}% of the workload's CPU time"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="pingpong,faults,loop", help="of bench_overhead.py")
    p.add_argument("--loop-n", type=int, default=500_000)
    p.add_argument("--tar-dir", default="/usr/share")
    p.add_argument("--tar-big-dir", default="/usr/lib")
    p.add_argument("--tar-out", default="/dev/shm")
    p.add_argument(
        "--compare",
        metavar="PROBES",
        help="also a watched run with only these families (--probes), e.g. syscalls",
    )
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("bench_bpf_cost: needs root (BPF programs, kernel.bpf_stats_enabled)")
    print(f"# load average before: {os.getloadavg()[0]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="denet-bpfcost-"))
    res = scratch / "elapsed"
    try:
        with bpf_stats():
            for wname, make in workloads(args, scratch).items():
                if wname not in args.workloads.split(","):
                    continue
                cmd = make(res)
                floor, floor_cpu = beside(empty_all(), cmd, scratch, res)
                ours, cpu = watched(cmd, scratch, res)
                report(f"{wname}, watched by denet-tui (every family)", ours, floor, cpu)
                if args.compare:
                    few, few_cpu = watched(cmd, scratch, res, "--probes", args.compare)
                    report(f"{wname}, watched with --probes {args.compare}", few, floor, few_cpu)
                near, near_cpu = beside(denet_elsewhere(scratch), cmd, scratch, res)
                report(f"{wname}, untracked (denet-tui watching a sleep)", near, floor, near_cpu)
                report(f"{wname}, empty programs (the floor itself)", floor, floor, floor_cpu)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(OSError):
            tar_output(args).unlink()
    print(f"# load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
