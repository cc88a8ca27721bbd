"""The BPF source is never built from user input, and what it is given is what it expects."""

from __future__ import annotations

import ctypes as ct
import re

import pytest

from denet_tui.collectors import ebpf
from denet_tui.collectors.ebpf import EbpfCollector

pytestmark = pytest.mark.ebpf


def test_cflags_are_integer_defines_only() -> None:
    with EbpfCollector() as c:
        flags = c._cflags()
    for flag in flags:
        name, _, value = flag.removeprefix("-D").partition("=")
        assert flag.startswith("-D") and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), flag
        if name == "SYSCALL_NR_REG":  # a struct member from our own per-architecture table
            assert value in ebpf._NR_REG.values()
        else:
            int(value)
    assert f"-DNR_SLOTS={ebpf.NR_SLOTS}" in flags
    assert ebpf.NR_SLOTS & (ebpf.NR_SLOTS - 1) == 0  # the C masks indexes with NR_SLOTS - 1


def test_task_state_layout_matches_the_kernel_value_size() -> None:
    with EbpfCollector() as c:
        # A live thread's storage is read into this buffer: a wrong size would fail the lookup.
        words = 3 + ebpf.NR_SLOTS * 3
        assert ct.sizeof(c._state_type) == words * 8
    with EbpfCollector(latency=False) as c:
        assert ct.sizeof(c._state_type) == (3 + ebpf.NR_SLOTS * 2) * 8
