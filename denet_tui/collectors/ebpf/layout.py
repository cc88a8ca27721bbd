"""The layouts shared with the BPF side, declared once here (mirroring ``bpf/*.bpf.h``).

A test compiles the real program and compares each size with the one BCC derives from the C
source, so the two sides cannot drift apart silently.
"""

from __future__ import annotations

import ctypes as ct
from functools import cache

TASK_COMM_LEN = 16

# tree.bpf.h
PID_LIMIT = 1 << 22  # the kernel's largest pid_max (64-bit): a bit each in the pid_bits arrays
TRK_WAIT_EXEC = 1
TRK_FLUSHING = 2
TRK_WAIT_MM = 4
PROC_EXITED = 1
PROC_EXECED = 2
DIAG_NAMES = (
    "stats_full",
    "procs_full",
    "storage_fail",
    "new_procs",
    "exits",
    "active_full",
    "sched_late",
    "sched_full",
    "mem_full",
    "exec_lost",
    "files_full",
    "signals_lost",
    "privileges_lost",
    "caps_full",
    "net_full",
    "disk_full",
    "conns_lost",
    "sched_naps_unwoken",
)


ARGV_BYTES = 512  # a power of two
ARGV_MAX = 32
ARGV_TRUNCATED = 1
ARGV_FAULT = 2


class ExecArgv(ct.Structure):
    _fields_ = [
        ("argc", ct.c_uint32),
        ("len", ct.c_uint32),
        ("flags", ct.c_uint32),
        ("pad", ct.c_uint32),
        ("buf", ct.c_char * (2 * ARGV_BYTES)),
    ]


# exec.bpf.h
EXEC_PATH = 256
EXEC_PATH_CUT = 1
EXEC_PATH_FAULT = 2


class RawExecEvent(ct.Structure):
    _fields_ = [
        ("ns", ct.c_uint64),
        ("serial", ct.c_uint32),
        ("pid", ct.c_uint32),
        ("ppid", ct.c_uint32),
        ("ret", ct.c_int32),
        ("flags", ct.c_uint32),
        ("pad", ct.c_uint32),
        ("comm", ct.c_char * TASK_COMM_LEN),
        ("path", ct.c_char * EXEC_PATH),
        ("argv", ExecArgv),
    ]


# files.bpf.h
FILE_PATH = 256
FILE_SHORT = 64  # the short table's paths (see files.bpf.h)
FILE_MODE_READ, FILE_MODE_WRITE, FILE_MODE_CREATE, FILE_MODE_CUT = 1, 2, 4, 8
FILE_MODE_UNNAMED = 16  # its name was lost (ring buffer full)
# FILE_OP_*, by value: the op's name in the model (FileStat.op)
FILE_OPS = ("open", "unlink", "rmdir", "mkdir", "rename_from", "rename_to", "truncate")
FILE_AT_DIRFD = 0x100  # in file_key.op: relative to a directory fd
FILE_TAIL = 0x200  # in file_key.op: a long path's last FILE_PATH - 1 bytes
FILE_CWD_CHANGING = 0xFFFFFFFF  # a cwd id while chdir runs: never learned


class FileArg(ct.Structure):
    _fields_ = [
        ("path", ct.c_uint64),
        ("path2", ct.c_uint64),
        ("flags", ct.c_uint32),
        ("op", ct.c_uint32),
        ("dfd", ct.c_int32),
        ("dfd2", ct.c_int32),
        ("from_cwd", ct.c_uint32),
        ("pad", ct.c_uint32),
    ]


# network.bpf.h: NET_* by value
NET_CLASSES = ("unix", "tcp", "udp", "other")


# privileges.bpf.h
PRIV_STR = 128
# PRIV_* by value (privileges.bpf.c's PRIV_ENTER lines): the call's name
PRIV_CALLS = (
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "capset",
    "ptrace",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "chroot",
    "pivot_root",
    "bpf",
    "memfd_create",
    "seccomp",
    "prctl",
    "setgroups",
)


class PrivArg(ct.Structure):
    _fields_ = [
        ("args", ct.c_uint64 * 4),
        ("str", ct.c_uint64),
        ("call", ct.c_uint32),
        ("pad", ct.c_uint32),
    ]


class CapRun(ct.Structure):
    _fields_ = [
        ("count", ct.c_uint64),
        ("first_ns", ct.c_uint64),
        ("last_ns", ct.c_uint64),
        ("cap", ct.c_uint32),
        ("denied", ct.c_uint32),
        ("tgid", ct.c_uint32),
        ("in_exec", ct.c_uint32),
        ("comm", ct.c_char * TASK_COMM_LEN),
    ]


class RawPrivEvent(ct.Structure):
    _fields_ = [
        ("ns", ct.c_uint64),
        ("args", ct.c_uint64 * 4),
        ("ret", ct.c_int64),
        ("pid", ct.c_uint32),
        ("tid", ct.c_uint32),
        ("call", ct.c_uint32),
        ("uid", ct.c_uint32),
        ("gid", ct.c_uint32),
        ("str_cut", ct.c_uint32),
        ("comm", ct.c_char * TASK_COMM_LEN),
        ("str", ct.c_char * PRIV_STR),
    ]


# signals.bpf.h
SIGNAL_SENT, SIGNAL_DELIVERED = 0, 1


class RawSignalEvent(ct.Structure):
    _fields_ = [
        ("ns", ct.c_uint64),
        ("handler", ct.c_uint64),
        ("kind", ct.c_uint32),
        ("sig", ct.c_int32),
        ("result", ct.c_int32),
        ("group", ct.c_uint32),
        ("sender", ct.c_uint32),
        ("sender_serial", ct.c_uint32),
        ("target", ct.c_uint32),
        ("target_serial", ct.c_uint32),
        ("sender_comm", ct.c_char * TASK_COMM_LEN),
        ("target_comm", ct.c_char * TASK_COMM_LEN),
    ]


class TrackVal(ct.Structure):
    _fields_ = [("serial", ct.c_uint32), ("flags", ct.c_uint32)]


class ProcInfo(ct.Structure):
    _fields_ = [
        ("tgid", ct.c_uint32),
        ("ppid", ct.c_uint32),
        ("flags", ct.c_uint32),
        ("exit_status", ct.c_uint32),
        ("start_ns", ct.c_uint64),
        ("exit_ns", ct.c_uint64),
        ("comm", ct.c_char * TASK_COMM_LEN),
    ]


# syscalls.bpf.h
class StatKey(ct.Structure):
    _fields_ = [("serial", ct.c_uint32), ("nr", ct.c_uint32)]


@cache
def counts_type(latency: bool) -> type[ct.Structure]:
    """``struct counts``: count, errors (and time_ns with latency), all u64."""
    fields = [("count", ct.c_uint64), ("errors", ct.c_uint64)]
    if latency:
        fields.append(("time_ns", ct.c_uint64))
    return type("Counts", (ct.Structure,), {"_fields_": fields})


@cache
def syscalls_thread_type(latency: bool, nr_slots: int) -> type[ct.Structure]:
    """``struct syscalls_thread``: the call in progress, which slots were used, and one
    ``counts`` per slot."""
    return type(
        "SyscallsThread",
        (ct.Structure,),
        {
            "_fields_": [
                ("enter_ns", ct.c_uint64),
                ("nr", ct.c_uint32),
                ("shared", ct.c_uint32),
                ("used", ct.c_uint64 * (nr_slots // 64)),
                ("c", counts_type(latency) * nr_slots),
            ]
        },
    )


@cache
def task_state_type(families: frozenset[str], latency: bool, nr_slots: int) -> type[ct.Structure]:
    """``struct task_state``: serial, flags and mark, then each enabled family's fields."""
    fields: list[tuple[str, type]] = [
        ("serial", ct.c_uint32),
        ("flags", ct.c_uint32),
        ("marked", ct.c_uint32),
        ("pad", ct.c_uint32),
    ]
    if "syscalls" in families:
        fields.append(("sc", syscalls_thread_type(latency, nr_slots)))
    if "files" in families:
        fields.append(("fa", FileArg))
    if "privileges" in families:
        fields += [("pa", PrivArg), ("cr", CapRun)]
    return type("TaskState", (ct.Structure,), {"_fields_": fields})
