"""The BPF source is never built from user input, and what it is given is what it expects: the
layouts declared in Python (``layout.py``) are the sizes BCC derives from the C source."""

from __future__ import annotations

import ctypes as ct
import re
import struct

import pytest

from denet_tui.collectors.bpf_maps import table_fd, value_size
from denet_tui.collectors.ebpf import EbpfCollector, layout, loader
from denet_tui.collectors.ebpf.families.memory import PROC_FMT
from denet_tui.collectors.ebpf.families.sched import SUMS_FMT, THREAD_FMT
from denet_tui.collectors.ebpf.families.syscalls import ARG_REGS, NR_REG, NR_SLOTS, SyscallsFamily
from denet_tui.syscalls import machine_arch

from .helpers import run_collected

pytestmark = pytest.mark.ebpf


def test_cflags_are_integer_defines_only() -> None:
    flags = loader.cflags([SyscallsFamily()], cpu_bits=2)
    for flag in flags:
        name, _, value = flag.removeprefix("-D").partition("=")
        assert flag.startswith("-D") and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), flag
        if name == "SYSCALL_NR_REG":  # a struct member from our own per-architecture table
            assert value in NR_REG.values()
        elif name.startswith("SYSCALL_ARG"):  # the same, for the arguments
            assert value in ARG_REGS[machine_arch()]
        else:
            int(value)
    assert f"-DNR_SLOTS={NR_SLOTS}" in flags and "-DFAMILY_SYSCALLS=1" in flags
    assert NR_SLOTS & (NR_SLOTS - 1) == 0  # the C masks indexes with NR_SLOTS - 1


@pytest.mark.parametrize("latency", [True, False])
def test_layouts_declared_in_python_match_the_c_source(latency: bool) -> None:
    with EbpfCollector(latency=latency, detach_later=True) as c:
        b = c._bpf
        assert ct.sizeof(layout.TrackVal) == ct.sizeof(b[b"tracked"].Leaf)
        assert ct.sizeof(layout.ProcInfo) == ct.sizeof(b[b"procs"].Leaf)
        assert ct.sizeof(layout.ExecArgv) == ct.sizeof(b[b"exec_argv"].Leaf)
        assert ct.sizeof(layout.StatKey) == ct.sizeof(b[b"stats"].Key)
        assert ct.sizeof(layout.counts_type(latency)) == ct.sizeof(b[b"stats"].Leaf)
        state = layout.task_state_type(frozenset(c.info.families), latency, NR_SLOTS)
        assert ct.sizeof(state) == value_size(table_fd(b, "tstate"))  # task storage
        # The sched family's entries, read as packed words.
        assert struct.calcsize("=" + THREAD_FMT) == ct.sizeof(b[b"sched_threads"].Leaf)
        assert struct.calcsize("=" + SUMS_FMT) == ct.sizeof(b[b"sched_ended"].Leaf)
        assert struct.calcsize("=" + PROC_FMT) == ct.sizeof(b[b"mem_live"].Leaf)
        # A live thread's storage is read into this buffer: a wrong size would fail the lookup.
        used = NR_SLOTS // 64  # the syscalls family's bitmap of used slots
        words = 4 + used + NR_SLOTS * (3 if latency else 2) + 5 + 6 + 7  # + files', privileges'
        assert ct.sizeof(state) == words * 8
        assert ct.sizeof(b[b"proc_stats"].Leaf) == 8 * (used + NR_SLOTS * (3 if latency else 2))


def test_the_tree_alone_loads_without_any_family() -> None:
    with EbpfCollector(probes=frozenset()) as c:
        # No probe family; exit records (taskstats) are the collector's own.
        assert c.info.families == {"exits": "exact"} and c.info.syscalls is None
        state = layout.task_state_type(frozenset(), True, NR_SLOTS)
        assert ct.sizeof(state) == value_size(table_fd(c._bpf, "tstate")) == 16


def test_a_live_thread_s_counts_end_where_the_other_families_fields_begin() -> None:
    # A live thread's state holds the syscalls family's counts, then the files family's call
    # in progress (its directory fd: AT_FDCWD, -100) and others: read as counts, they made
    # up a "syscall 513" called 2**32 - 100 times.
    _, snaps = run_collected(["sh", "-c", "cat /etc/hostname > /dev/null; sleep 0.6"])
    for snap in snaps:
        assert snap.syscalls.total < 100_000
        assert not [name for name in snap.syscalls.by_name if name.startswith("syscall_")]
