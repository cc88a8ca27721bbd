"""Compile and load the BPF program: one compile unit of the tree header and the chosen families.

Every knob reaches the C source as an integer ``-D`` (or a name from our own tables); no text
from the user or from a process is ever part of it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf.families.base import Family
from denet_tui.collectors.ebpf.layout import ARGV_BYTES, ARGV_MAX, PID_LIMIT
from denet_tui.collectors.ebpf.support import missing_capabilities, quiet_stderr, tracefs_has
from denet_tui.collectors.ebpf.tracker import MAX_PROCS
from denet_tui.syscalls import machine_arch, table

BPF_DIR = Path(__file__).resolve().parent / "bpf"
# The programs read kernel structs at offsets from the BTF, so they need only the names: not
# <linux/sched.h>, whose parsing took 0.3-0.6 s of each start.
# User memory is read through our own names for the two helpers: for every call written
# `bpf_probe_read_user*`, BCC 0.26 checks that the kernel has the helper by rebuilding a map of
# all of /proc/kallsyms (about 60 ms a call here; 0.7 s of each start for the 18 calls). Every
# kernel with ring buffers (5.8) has both helpers.
PRELUDE = (
    "#include <uapi/linux/ptrace.h>\n#include <uapi/linux/sched.h>\n"
    "#define TASK_COMM_LEN 16\nstruct task_struct;\n"
    "static long (*read_user)(void *dst, u32 size, const void *src) =\n"
    "    (void *)BPF_FUNC_probe_read_user;\n"
    "static long (*read_user_str)(void *dst, u32 size, const void *src) =\n"
    "    (void *)BPF_FUNC_probe_read_user_str;\n"
)


def possible_cpus() -> int:
    try:
        from bcc.utils import get_possible_cpus

        return max(get_possible_cpus()) + 1
    except Exception:  # bcc missing or odd sysfs: a safe upper bound
        return os.cpu_count() or 1


def compile_unit(families: Iterable[Family]) -> str:
    """The kernel headers, each family's types, the tree, then each family's maps and hooks."""
    fams = list(families)
    try:
        parts = [PRELUDE]
        parts += [(BPF_DIR / f"{f.source}.bpf.h").read_text() for f in fams]
        parts.append((BPF_DIR / "tree.bpf.h").read_text())
        parts += [(BPF_DIR / f"{f.source}.bpf.c").read_text() for f in fams]
    except OSError as e:
        raise CollectorError(f"BPF source missing: {e.filename}: {e.strerror}") from None
    if shared_served(fams):
        parts.append(shared_dispatch(fams))
    return "\n".join(parts)


def call_numbers() -> dict[str, int]:
    """This architecture's syscall numbers by name (our own table)."""
    return {name: number for number, name in table(machine_arch()).items()}


def cflags(families: Iterable[Family], cpu_bits: int) -> list[str]:
    fams = list(families)
    nr = call_numbers()
    defines: dict[str, int | str] = {
        "MAX_PROCS": MAX_PROCS,
        "PID_LIMIT": PID_LIMIT,
        "SERIAL_CPU_BITS": cpu_bits,
        "HAVE_GROUP_DEAD": int(tracefs_has("sched/sched_process_exit", "group_dead")),
        "NR_EXECVE": nr.get("execve", -1),
        "NR_EXECVEAT": nr.get("execveat", -1),
        "ARGV_BYTES": ARGV_BYTES,
        "ARGV_MAX": ARGV_MAX,
    }
    for f in fams:
        defines[f"FAMILY_{f.name.upper()}"] = 1
        defines.update(f.defines())
        for shared in f.shared:  # (a prefix of our own: the headers have NR_OPEN, a limit)
            defines.update({f"CALL_NR_{call.upper()}": nr.get(call, -1) for call in shared.calls})
    return [f"-D{k}={v}" for k, v in defines.items()]


# Calls whose tracepoints have another name (that of the kernel's SYSCALL_DEFINE).
TRACEPOINT_NAMES = {"umount2": "umount"}


def shared_served(families: Iterable[Family]) -> bool:
    """Whether the raw syscall programs serve the shared programs (the syscalls family's
    ``SHARED_RAW``)."""
    return any(f.name == "syscalls" and f.defines().get("SHARED_RAW") for f in families)


def shared_dispatch(families: Iterable[Family]) -> str:
    """C source of tree.bpf.h's ``shared_enter`` and ``shared_exit``: each call's number to the
    shared programs that take it (numbers from our own syscall table, names from our own
    families). The entry marks a call with an exit program, so the exit of any other call
    costs one test."""
    nr = call_numbers()
    takers: dict[int, tuple[list[str], list[str]]] = {}
    for f in families:
        for s in f.shared:
            for call in s.calls:
                if call in nr:
                    enters, exits = takers.setdefault(nr[call], ([], []))
                    (enters if s.end == "enter" else exits).append(s.program)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[int]] = {}
    for number, (enters, exits) in sorted(takers.items()):
        groups.setdefault((tuple(enters), tuple(exits)), []).append(number)
    enter = [
        "static __always_inline void shared_enter(struct task_state *s, u32 nr, void *regs)",
        "{",
        "    u64 a[5];",
        "    switch (nr) {",
    ]
    exit_ = [
        "static __always_inline void shared_exit(u32 nr, long ret)",
        "{",
        "    struct sys_exit_args x = {.nr = nr, .ret = ret};",
        "    switch (nr) {",
    ]
    for (enters, exits), numbers in groups.items():
        enter += [f"    case {n}:" for n in numbers]
        enter.append("        if (compat_call())")
        enter.append("            break;")
        if enters:
            enter.append("        shared_args(a, regs);")
            enter += [f"        {p}(s, nr, a);" for p in enters]
        if exits:
            enter.append("        s->sc.shared = 1;")
            exit_ += [f"    case {n}:" for n in numbers]
            exit_ += [f"        {p}(&x);" for p in exits]
            exit_.append("        break;")
        enter.append("        break;")
    tail = ["    }", "}", ""]
    return "\n".join(enter + tail + exit_ + tail)


def shared_tracepoints(families: Iterable[Family]) -> list[tuple[str, str]]:
    """(tracepoint, program) for each call of each shared program that this architecture has
    (none when the raw programs serve them)."""
    fams = list(families)
    if shared_served(fams):
        return []
    have = call_numbers()
    return [
        (f"syscalls:sys_{s.end}_{TRACEPOINT_NAMES.get(call, call)}", s.program)
        for f in fams
        for s in f.shared
        for call in s.calls
        if call in have
    ]


def one_line(exc: BaseException, stderr: list[str]) -> str:
    errors = [ln.strip() for ln in stderr if "error" in ln.lower()]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if errors:
        text += f" ({errors[0]})"
    return text


def load(families: Iterable[Family], cpu_bits: int) -> Any:
    """The compiled, loaded and attached program (a BCC ``BPF``); CollectorError otherwise."""
    try:
        from bcc import BPF
    except ImportError:
        raise CollectorError(
            "BCC is not importable (apt-get install python3-bpfcc; use a venv made with "
            "--system-site-packages)"
        ) from None
    missing = missing_capabilities()
    if missing:
        raise CollectorError(f"not root: loading BPF programs needs root ({missing} missing)")
    fams = list(families)
    source = compile_unit(fams)
    stderr: list[str] = []
    bpf = None
    try:
        with quiet_stderr() as stderr:
            bpf = BPF(text=source.encode(), cflags=cflags(fams, cpu_bits))
            for tracepoint, program in shared_tracepoints(fams):
                bpf.attach_tracepoint(tp=tracepoint.encode(), fn_name=program.encode())
        return bpf
    except Exception as e:  # BCC raises bare Exception; never a traceback for the user
        free(bpf)
        reason = one_line(e, stderr)
        with contextlib.suppress(Exception):
            from denet_tui.collectors.ebpf.support import ebpf_unavailable_reason

            why = ebpf_unavailable_reason()
            if why:
                reason = f"{why} ({reason})"
        raise CollectorError(f"cannot load the BPF program: {reason}") from None


def free(bpf: Any, later: bool = False) -> None:
    if bpf is not None:
        bpf_maps.cleanup(bpf, later)
