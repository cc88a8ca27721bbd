"""Field offsets of kernel structs, read from the running kernel's BTF, are the ones bpftool
reads from the same file."""

from __future__ import annotations

import re
import subprocess

import pytest

from denet_tui.collectors.ebpf.btf import BtfError, kernel_offsets
from denet_tui.collectors.ebpf.families.sched import TASK_FIELDS


def bpftool_members(struct_name: str) -> dict[str, tuple[int, int]]:
    """bpftool's members of ``struct struct_name``: name -> (type id, bit offset); and the ids."""
    out = subprocess.run(
        ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    head = re.search(rf"^\[(\d+)\] STRUCT '{struct_name}' size=\d+ vlen=(\d+)$", out, re.M)
    assert head, struct_name
    lines = out[head.end() :].splitlines()[1 : 1 + int(head.group(2))]
    members = {}
    for line in lines:
        m = re.match(r"\s+'(\w+)' type_id=(\d+) bits_offset=(\d+)", line)
        if m:
            members[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return members


def test_task_struct_offsets_are_bpftools() -> None:
    got = kernel_offsets(TASK_FIELDS)
    task = bpftool_members("task_struct")
    se, info = bpftool_members("sched_entity"), bpftool_members("sched_info")
    assert got["TASK_NVCSW"] == task["nvcsw"][1] // 8
    assert got["TASK_NIVCSW"] == task["nivcsw"][1] // 8
    assert got["TASK_SUM_EXEC"] == (task["se"][1] + se["sum_exec_runtime"][1]) // 8
    assert got["TASK_RUN_DELAY"] == (task["sched_info"][1] + info["run_delay"][1]) // 8


def test_a_field_the_kernel_lacks_is_a_clear_error() -> None:
    with pytest.raises(BtfError, match="no field se.nonesuch in struct task_struct"):
        kernel_offsets({"X": "task_struct.se.nonesuch"})
    with pytest.raises(BtfError, match="cannot read the kernel's BTF"):
        kernel_offsets({"X": "task_struct.nvcsw"}, source="/nonexistent")
