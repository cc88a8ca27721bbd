"""No program of ours stays loaded: after close, after an exception, after Ctrl-C or a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf import EbpfCollector
from denet_tui.collectors.ebpf.families import FAMILIES
from denet_tui.collectors.ebpf.families.syscalls import ARG_REGS
from denet_tui.syscalls import machine_arch
from denet_tui.target import RunTarget

from .helpers import SYSCALLS, fd_prog_ids, loaded_prog_ids, wait_unloaded

pytestmark = pytest.mark.ebpf
# Every family's, with latency (see the first test); where the raw syscall programs cannot
# serve the shared ones (no argument registers known), those are programs of their own.
SHARED = sum(len(f.shared) for f in FAMILIES.values())
PROGRAMS = 21 + (0 if machine_arch() in ARG_REGS else SHARED)
SYSCALLS_PROGRAMS = 8  # the tree's programs and the syscalls family's


def _assert_gone(ids: set[int]) -> None:
    assert ids, "expected some programs to check"
    assert not ids & fd_prog_ids(), "we still hold a program fd"
    if loaded_prog_ids() is not None:
        # A run detaches in a child process after it ended (bpf_maps.cleanup): ~40 ms each.
        assert not wait_unloaded(ids, timeout=20), "programs still loaded in the kernel"


def test_close_unloads_and_is_idempotent() -> None:
    before = fd_prog_ids()
    c = EbpfCollector()
    ids = set(c.program_ids())
    # sys_enter, sys_exit, task_newtask, sched_process_exec, sched_process_exit,
    # sys_enter_exit_group, sys_enter_execve, sys_enter_execveat; sched: sched_switch,
    # sched_wakeup, sched_wakeup_new; memory: rss_stat; ... (the shared programs are not
    # loaded: the raw sys_enter and sys_exit serve them)
    assert len(ids) == PROGRAMS and ids <= fd_prog_ids()
    loaded = loaded_prog_ids()
    assert loaded is None or ids <= loaded
    c.close()
    c.close()
    _assert_gone(ids)
    assert fd_prog_ids() == before
    assert c.program_ids() == []
    with pytest.raises(CollectorError):
        c.sample()


@pytest.mark.skipif(machine_arch() not in ARG_REGS, reason="the raw programs serve x86_64 only")
def test_shared_programs_have_tracepoints_of_their_own_only_without_the_raw_ones() -> None:
    probes = frozenset({"syscalls", "files", "privileges", "network"})
    shared = {s.program.encode() for name in probes for s in FAMILIES[name].shared}
    with EbpfCollector(probes=probes) as c:
        assert c._bpf is not None and not shared & set(c._bpf.funcs)
        calls = {f"syscalls:sys_{end}_{call}".encode() for end in ("enter", "exit")
                 for call in ("openat", "chdir", "sendto", "recvfrom", "setuid")}  # fmt: skip
        assert not calls & set(c._bpf.tracepoint_fds)
    with EbpfCollector(latency=False, probes=frozenset({"syscalls", "files"})) as c:
        assert c._bpf is not None and {b"sys_enter_files", b"sys_exit_files"} <= set(c._bpf.funcs)
        assert b"syscalls:sys_exit_openat" in c._bpf.tracepoint_fds


def test_no_latency_loads_one_syscall_tracepoint() -> None:
    with EbpfCollector(latency=False, probes=SYSCALLS) as c:
        ids = set(c.program_ids())
        assert len(ids) == SYSCALLS_PROGRAMS - 1
        assert c.info.share_basis == "count"
    _assert_gone(ids)


def test_exception_while_monitoring_unloads() -> None:
    target = RunTarget(["sleep", "5"])
    ids: set[int] = set()
    with pytest.raises(RuntimeError), EbpfCollector(probes=SYSCALLS) as c:
        ids = set(c.program_ids())
        c.start(target)
        target.release()
        c.sample()
        raise RuntimeError("boom")
    target.close()
    _assert_gone(ids)


def test_failure_after_load_unloads(monkeypatch: pytest.MonkeyPatch) -> None:
    before = fd_prog_ids()

    def broken(*args: object) -> None:
        raise OSError("map setup failed")

    monkeypatch.setattr("denet_tui.collectors.ebpf.collector.Tracker", broken)
    with pytest.raises(CollectorError, match="map setup failed"):
        EbpfCollector(probes=SYSCALLS)
    assert fd_prog_ids() == before


def test_garbage_collected_collector_unloads() -> None:
    c = EbpfCollector(probes=SYSCALLS)
    ids = set(c.program_ids())
    del c
    import gc

    gc.collect()
    _assert_gone(ids)


def _headless(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "denet_tui", "run", "--json", "--collector", "ebpf", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # our Ctrl-C goes to the monitor, as a terminal's would
    )


def _armed(proc: subprocess.Popen[bytes], programs: int) -> tuple[set[int], int]:
    """Our programs' ids in the monitor, and the command's pid, once the meta line is out."""
    assert proc.stdout is not None
    meta = json.loads(proc.stdout.readline())  # the collector is armed
    assert meta["kind"] == "meta" and meta["collector"]["name"] == "ebpf"
    ids = fd_prog_ids(proc.pid)
    assert len(ids) == programs
    return ids, meta["target"]["pid"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_headless_interrupted_unloads(sig: signal.Signals) -> None:
    proc = _headless("--interval", "0.2", "--probes", "syscalls", "--", "sleep", "30")
    ids, _ = _armed(proc, SYSCALLS_PROGRAMS)
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert b"Traceback" not in err, err.decode()
    assert proc.returncode == 128 + signal.SIGINT  # the command's own status: stopped by SIGINT
    _assert_gone(ids)


def test_headless_killed_unloads() -> None:
    proc = _headless("--", "sleep", "30")
    ids, child = _armed(proc, PROGRAMS)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=20)
    os.kill(child, signal.SIGKILL)  # the orphaned command, which holds our stderr pipe
    proc.communicate(timeout=20)
    # Nothing ran our cleanup: the kernel frees programs whose last fd went with the process.
    if loaded_prog_ids() is not None:
        assert not wait_unloaded(ids)
