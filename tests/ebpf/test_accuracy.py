"""Exact means exact: per-syscall counts equal ``strace -f -c`` on the same command.

For commands whose syscalls do not depend on timing, every syscall with 100+ calls must be within
2% of strace (calls and errors) and the total within 1%. What timing decides (futex, polling,
sleeping, waiting) and exit/exit_group (which strace never counts) are left out.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from .helpers import SYSCALLS, TIMING, every_process, run_collected, strace_counts

pytestmark = pytest.mark.ebpf

THREADS_PY = textwrap.dedent(
    """
    import os, sys, threading
    d = sys.argv[1]
    def work(k):
        p = os.path.join(d, f"f{k}")
        with open(p, "wb", buffering=0) as f:
            for _ in range(300):
                f.write(b"x" * 4096)
        with open(p, "rb", buffering=0) as f:
            while f.read(8192):
                pass
        os.stat(p)
        os.unlink(p)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    """
)

DGRAM_PY = textwrap.dedent(
    """
    import os, socket
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    pid = os.fork()
    if pid == 0:
        a.close()
        for _ in range(500):
            b.send(b.recv(64).upper())
        os._exit(0)
    b.close()
    for i in range(500):
        a.send(b"ping %d" % i)
        a.recv(64)
    os.waitpid(pid, 0)
    """
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of 300 files of known sizes, for tar."""
    root = tmp_path_factory.mktemp("tar") / "tree"
    for i in range(1, 301):
        sub = root / f"d{i % 7}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i}").write_bytes(bytes(range(256)) * (i % 40) + b"x" * i)
    return root


def _workloads(tmp: Path, tree: Path) -> dict[str, list[str]]:
    (tmp / "threads.py").write_text(THREADS_PY)
    (tmp / "dgram.py").write_text(DGRAM_PY)
    (tmp / "io").mkdir(exist_ok=True)
    return {
        "tar": ["tar", "cf", str(tmp / "out.tar"), "-C", str(tree.parent), tree.name],
        "shell-loop": ["sh", "-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done"],
        "threads-file-io": [sys.executable, str(tmp / "threads.py"), str(tmp / "io")],
        "dgram-sockets": [sys.executable, str(tmp / "dgram.py")],
    }


def _compare(
    strace: dict[str, tuple[int, int]], ebpf: dict[str, tuple[int, int]]
) -> tuple[list[str], int, int]:
    problems = []
    total_s = total_e = 0
    for name in sorted(set(strace) | set(ebpf)):
        if name in TIMING:
            continue
        (sc, se), (ec, ee) = strace.get(name, (0, 0)), ebpf.get(name, (0, 0))
        total_s += sc
        total_e += ec
        if sc >= 100:
            if abs(ec - sc) > 0.02 * sc:
                problems.append(f"{name}: {ec} calls, strace {sc}")
            if abs(ee - se) > 0.02 * se:
                problems.append(f"{name}: {ee} errors, strace {se}")
    return problems, total_s, total_e


WORKLOADS = ["tar", "shell-loop", "threads-file-io", "dgram-sockets"]


@pytest.mark.parametrize(
    ("workload", "latency"),
    [(w, True) for w in WORKLOADS] + [("shell-loop", False), ("dgram-sockets", False)],
    ids=[f"{w}" for w in WORKLOADS] + ["shell-loop-no-latency", "dgram-sockets-no-latency"],
)
def test_counts_match_strace(workload: str, latency: bool, tmp_path: Path, tree: Path) -> None:
    argv = _workloads(tmp_path, tree)[workload]
    strace = strace_counts(argv, tmp_path / "strace.txt")
    snap, snaps = run_collected(argv, latency=latency, probes=SYSCALLS)  # (others: no use here)
    ebpf = {n: (s.count or 0, s.errors or 0) for n, s in snap.syscalls.by_name.items()}

    problems, total_s, total_e = _compare(strace, ebpf)
    assert not problems, f"{workload}: " + "; ".join(problems)
    assert total_s > 1000, f"{workload}: too small to compare ({total_s} calls)"
    assert abs(total_e - total_s) <= 0.01 * total_s, f"{workload}: {total_e} vs strace {total_s}"
    assert snap.diagnostics["lost"] == 0
    # The tree's total is the sum over every process ever reported, each once.
    everyone = every_process(snaps)
    assert snap.syscalls.total == sum(p.syscalls.count or 0 for p in everyone if p.syscalls)
    assert snap.totals.processes_seen == len(everyone)
    # Latency on: exit_group is counted on entry (strace never shows it); off: never counted.
    groups = snap.syscalls.by_name.get("exit_group")
    if latency:
        assert groups is not None and groups.count >= 1
        assert snap.syscalls.by_name["read"].time_ns > 0
        assert sum(snap.syscalls.by_name["read"].hist) == snap.syscalls.by_name["read"].count
    else:
        assert groups is None
        assert all(s.time_ns is None and s.hist is None for s in snap.syscalls.by_name.values())
