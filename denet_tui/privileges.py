"""Privileged acts in words: capability names, and each privileged call's arguments decoded
(flag and request names from the kernel's uapi headers), for the privileges family."""

from __future__ import annotations

from collections.abc import Callable

# include/uapi/linux/capability.h, by number
CAPABILITIES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]

CLONE_NEW = {  # unshare's flags (setns's: the CLONE_NEW ones)
    0x80: "CLONE_NEWTIME",
    0x100: "CLONE_VM",
    0x200: "CLONE_FS",
    0x400: "CLONE_FILES",
    0x800: "CLONE_SIGHAND",
    0x10000: "CLONE_THREAD",
    0x20000: "CLONE_NEWNS",
    0x40000: "CLONE_SYSVSEM",
    0x2000000: "CLONE_NEWCGROUP",
    0x4000000: "CLONE_NEWUTS",
    0x8000000: "CLONE_NEWIPC",
    0x10000000: "CLONE_NEWUSER",
    0x20000000: "CLONE_NEWPID",
    0x40000000: "CLONE_NEWNET",
}
MOUNT_FLAGS = {
    0x1: "MS_RDONLY",
    0x2: "MS_NOSUID",
    0x4: "MS_NODEV",
    0x8: "MS_NOEXEC",
    0x20: "MS_REMOUNT",
    0x1000: "MS_BIND",
    0x2000: "MS_MOVE",
    0x4000: "MS_REC",
    0x20000: "MS_UNBINDABLE",
    0x40000: "MS_PRIVATE",
    0x80000: "MS_SLAVE",
    0x100000: "MS_SHARED",
}
UMOUNT_FLAGS = {0x1: "MNT_FORCE", 0x2: "MNT_DETACH", 0x4: "MNT_EXPIRE", 0x8: "UMOUNT_NOFOLLOW"}
MEMFD_FLAGS = {
    0x1: "MFD_CLOEXEC",
    0x2: "MFD_ALLOW_SEALING",
    0x4: "MFD_HUGETLB",
    0x8: "MFD_NOEXEC_SEAL",
    0x10: "MFD_EXEC",
}
PTRACE_REQUESTS = {
    0: "PTRACE_TRACEME",
    1: "PTRACE_PEEKTEXT",
    2: "PTRACE_PEEKDATA",
    3: "PTRACE_PEEKUSER",
    4: "PTRACE_POKETEXT",
    5: "PTRACE_POKEDATA",
    6: "PTRACE_POKEUSER",
    7: "PTRACE_CONT",
    8: "PTRACE_KILL",
    9: "PTRACE_SINGLESTEP",
    12: "PTRACE_GETREGS",
    13: "PTRACE_SETREGS",
    16: "PTRACE_ATTACH",
    17: "PTRACE_DETACH",
    24: "PTRACE_SYSCALL",
    0x4200: "PTRACE_SETOPTIONS",
    0x4201: "PTRACE_GETEVENTMSG",
    0x4202: "PTRACE_GETSIGINFO",
    0x4204: "PTRACE_GETREGSET",
    0x4205: "PTRACE_SETREGSET",
    0x4206: "PTRACE_SEIZE",
    0x4207: "PTRACE_INTERRUPT",
    0x4208: "PTRACE_LISTEN",
}
BPF_COMMANDS = [
    "BPF_MAP_CREATE",
    "BPF_MAP_LOOKUP_ELEM",
    "BPF_MAP_UPDATE_ELEM",
    "BPF_MAP_DELETE_ELEM",
    "BPF_MAP_GET_NEXT_KEY",
    "BPF_PROG_LOAD",
    "BPF_OBJ_PIN",
    "BPF_OBJ_GET",
    "BPF_PROG_ATTACH",
    "BPF_PROG_DETACH",
    "BPF_PROG_TEST_RUN",
    "BPF_PROG_GET_NEXT_ID",
    "BPF_MAP_GET_NEXT_ID",
    "BPF_PROG_GET_FD_BY_ID",
    "BPF_MAP_GET_FD_BY_ID",
    "BPF_OBJ_GET_INFO_BY_FD",
    "BPF_PROG_QUERY",
    "BPF_RAW_TRACEPOINT_OPEN",
    "BPF_BTF_LOAD",
    "BPF_BTF_GET_FD_BY_ID",
    "BPF_TASK_FD_QUERY",
    "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
    "BPF_MAP_FREEZE",
    "BPF_BTF_GET_NEXT_ID",
    "BPF_MAP_LOOKUP_BATCH",
    "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
    "BPF_MAP_UPDATE_BATCH",
    "BPF_MAP_DELETE_BATCH",
    "BPF_LINK_CREATE",
    "BPF_LINK_UPDATE",
    "BPF_LINK_GET_FD_BY_ID",
    "BPF_LINK_GET_NEXT_ID",
    "BPF_ENABLE_STATS",
    "BPF_ITER_CREATE",
    "BPF_LINK_DETACH",
    "BPF_PROG_BIND_MAP",
    "BPF_TOKEN_CREATE",
]
SECCOMP_OPS = (
    "SECCOMP_SET_MODE_STRICT",
    "SECCOMP_SET_MODE_FILTER",
    "SECCOMP_GET_ACTION_AVAIL",
    "SECCOMP_GET_NOTIF_SIZES",
)
PRCTL_OPTIONS = {
    1: "PR_SET_PDEATHSIG",
    2: "PR_GET_PDEATHSIG",
    3: "PR_GET_DUMPABLE",
    4: "PR_SET_DUMPABLE",
    7: "PR_GET_KEEPCAPS",
    8: "PR_SET_KEEPCAPS",
    15: "PR_SET_NAME",
    16: "PR_GET_NAME",
    21: "PR_GET_SECCOMP",
    22: "PR_SET_SECCOMP",
    23: "PR_CAPBSET_READ",
    24: "PR_CAPBSET_DROP",
    27: "PR_GET_SECUREBITS",
    28: "PR_SET_SECUREBITS",
    35: "PR_SET_MM",
    36: "PR_SET_CHILD_SUBREAPER",
    37: "PR_GET_CHILD_SUBREAPER",
    38: "PR_SET_NO_NEW_PRIVS",
    39: "PR_GET_NO_NEW_PRIVS",
    47: "PR_CAP_AMBIENT",
    0x59616D61: "PR_SET_PTRACER",
}
PR_SET_NAME, PR_CAPBSET_READ, PR_CAPBSET_DROP, PR_CAP_AMBIENT = 15, 23, 24, 47
AMBIENT_OPS = {
    1: "PR_CAP_AMBIENT_IS_SET",
    2: "PR_CAP_AMBIENT_RAISE",
    3: "PR_CAP_AMBIENT_LOWER",
    4: "PR_CAP_AMBIENT_CLEAR_ALL",
}
NO_ID = 0xFFFFFFFF  # (uid_t)-1: "leave this one as it is"


def capability_name(n: int) -> str:
    return f"CAP_{CAPABILITIES[n]}" if 0 <= n < len(CAPABILITIES) else f"capability {n}"


def flag_names(value: int, names: dict[int, str]) -> str:
    """``0x10020000`` -> ``"CLONE_NEWNS|CLONE_NEWUSER"``; bits with no name as hex."""
    parts = [name for bit, name in names.items() if value & bit]
    rest = value & ~sum(bit for bit in names if value & bit)
    if rest:
        parts.append(hex(rest))
    return "|".join(parts) or "0"


def _ids(*names: str) -> Callable[[tuple[int, ...]], str]:
    def show(args: tuple[int, ...]) -> str:
        return " ".join(
            f"{n}={'-' if (v & NO_ID) == NO_ID else v & NO_ID}"
            for n, v in zip(names, args, strict=False)
        )

    return show


def _named(table: dict[int, str] | tuple[str, ...], n: int, what: str) -> str:
    if isinstance(table, dict):
        return table.get(n, f"{what} {n}")
    return table[n] if 0 <= n < len(table) else f"{what} {n}"


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


DETAILS: dict[str, Callable[[tuple[int, ...]], str]] = {
    "setuid": _ids("uid"),
    "setgid": _ids("gid"),
    "setreuid": _ids("ruid", "euid"),
    "setregid": _ids("rgid", "egid"),
    "setresuid": _ids("ruid", "euid", "suid"),
    "setresgid": _ids("rgid", "egid", "sgid"),
    "setfsuid": _ids("fsuid"),
    "setfsgid": _ids("fsgid"),
    "capset": lambda a: "",
    "ptrace": lambda a: f"{_named(PTRACE_REQUESTS, a[0], 'request')} pid={_signed(a[1])}",
    "mount": lambda a: flag_names(a[0], MOUNT_FLAGS),
    "umount2": lambda a: flag_names(a[0], UMOUNT_FLAGS),
    "unshare": lambda a: flag_names(a[0], CLONE_NEW),
    "setns": lambda a: f"fd={_signed(a[0])} {flag_names(a[1], CLONE_NEW)}",
    "chroot": lambda a: "",
    "pivot_root": lambda a: "",
    "bpf": lambda a: _named(BPF_COMMANDS, a[0], "command"),
    "memfd_create": lambda a: flag_names(a[0], MEMFD_FLAGS),
    "seccomp": lambda a: f"{_named(SECCOMP_OPS, a[0], 'op')} flags={hex(a[1])}",
    "prctl": lambda a: _prctl(a[0] & 0xFFFFFFFF, a[1], a[2]),
    # How many supplementary groups (the list itself is not kept).
    "setgroups": lambda a: f"{a[0] & 0xFFFFFFFF} groups",
}


def _prctl(option: int, arg2: int, arg3: int) -> str:
    name = _named(PRCTL_OPTIONS, option, "option")
    if option == PR_SET_NAME:
        return name  # the name is in `path`
    if option in (PR_CAPBSET_READ, PR_CAPBSET_DROP):
        return f"{name} {capability_name(arg2)}"
    if option == PR_CAP_AMBIENT:
        sub = _named(AMBIENT_OPS, arg2, "op")
        return f"{name} {sub}" + ("" if arg2 == 4 else f" {capability_name(arg3)}")
    return f"{name} arg2={arg2}"


def describe(call: str, args: tuple[int, ...]) -> str:
    """A privileged call's arguments in words (the ones the kernel side keeps of it)."""
    show = DETAILS.get(call)
    return show(args) if show is not None else ""
