"""Field offsets of kernel structs, read from the running kernel's BTF, are the ones bpftool
reads from the same file."""

from __future__ import annotations

import functools
import json
import re
import subprocess

import pytest

from denet_tui.collectors.ebpf import btf
from denet_tui.collectors.ebpf.btf import BtfError, kernel_offsets
from denet_tui.collectors.ebpf.families.memory import KERNEL_FIELDS
from denet_tui.collectors.ebpf.families.sched import TASK_FIELDS


@functools.cache
def bpftool_raw() -> str:
    return subprocess.run(
        ["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "raw"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip


def bpftool_members(struct_name: str, kind: str = "STRUCT") -> dict[str, tuple[int, int]]:
    """bpftool's members of ``struct struct_name`` (or of type id ``#N``): name -> (type id,
    bit offset); anonymous ones as ``(anon)N``."""
    out = bpftool_raw()
    name = (
        rf"\[{struct_name[1:]}\] (?:STRUCT|UNION) '[^']*'"
        if struct_name.startswith("#")
        else (rf"\[\d+\] {kind} '{struct_name}'")
    )
    head = re.search(rf"^{name} size=(\d+) vlen=(\d+)$", out, re.M)
    assert head, struct_name
    lines = out[head.end() :].splitlines()[1 : 1 + int(head.group(2))]
    members = {}
    for i, line in enumerate(lines):
        m = re.match(r"\s+'([\w()]+)' type_id=(\d+) bits_offset=(\d+)", line)
        if m:
            key = m.group(1) if m.group(1) != "(anon)" else f"(anon){i}"
            members[key] = (int(m.group(2)), int(m.group(3)))
    return members


def bpftool_size(struct_name: str) -> int:
    head = re.search(rf"^\[\d+\] STRUCT '{struct_name}' size=(\d+)", bpftool_raw(), re.M)
    assert head, struct_name
    return int(head.group(1))


def find(where: str, field: str) -> int | None:
    """Bit offset of ``field`` in the type ``where`` (a struct name or ``#id``), looking
    inside anonymous members, from bpftool's dump."""
    members = bpftool_members(where)
    if field in members:
        return members[field][1]
    for key, (tid, bits) in members.items():
        if key.startswith("(anon)"):
            inner = find(f"#{tid}", field)
            if inner is not None:
                return bits + inner
    return None


def test_task_struct_offsets_are_bpftools() -> None:
    got = kernel_offsets(TASK_FIELDS)
    task = bpftool_members("task_struct")
    se, info = bpftool_members("sched_entity"), bpftool_members("sched_info")
    assert got["TASK_NVCSW"] == task["nvcsw"][1] // 8
    assert got["TASK_NIVCSW"] == task["nivcsw"][1] // 8
    assert got["TASK_SUM_EXEC"] == (task["se"][1] + se["sum_exec_runtime"][1]) // 8
    assert got["TASK_RUN_DELAY"] == (task["sched_info"][1] + info["run_delay"][1]) // 8


def test_fields_inside_anonymous_structs_and_sizes_are_bpftools() -> None:
    got = kernel_offsets(KERNEL_FIELDS)
    assert got["TASK_MM"] == bpftool_members("task_struct")["mm"][1] // 8
    assert got["MM_RSS_STAT"] == find("mm_struct", "rss_stat") // 8  # inside an anonymous struct
    assert got["PCPU_COUNT"] == bpftool_members("percpu_counter")["count"][1] // 8
    assert got["PCPU_SIZE"] == bpftool_size("percpu_counter")


def test_a_field_the_kernel_lacks_is_a_clear_error() -> None:
    with pytest.raises(BtfError, match="no field se.nonesuch in struct task_struct"):
        kernel_offsets({"X": "task_struct.se.nonesuch"})
    with pytest.raises(BtfError, match="cannot read the kernel's BTF"):
        kernel_offsets({"X": "task_struct.nvcsw"}, source="/nonexistent")


def test_answers_are_kept_for_the_next_start(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "denet-tui").mkdir()
    (tmp_path / "denet-tui" / "btf-another-kernel.json").write_text("{}")  # replaced
    btf._answers.cache_clear()
    try:
        first = kernel_offsets(TASK_FIELDS)
        (kept,) = (tmp_path / "denet-tui").glob("btf-*.json")
        assert json.loads(kept.read_text())["task_struct.nvcsw"] == first["TASK_NVCSW"]
        # The next start reads them (a value planted here shows it) ...
        kept.write_text(json.dumps({"task_struct.nvcsw": 12345}))
        btf._answers.cache_clear()
        assert kernel_offsets({"X": "task_struct.nvcsw"}) == {"X": 12345}
        # ... and a file it cannot read is as none: the BTF is parsed again.
        kept.write_text("{not json")
        btf._answers.cache_clear()
        assert kernel_offsets(TASK_FIELDS) == first
    finally:
        btf._answers.cache_clear()
