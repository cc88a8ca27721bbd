"""Syscall numbers, names and categories.

The number → name tables are generated from the kernel headers into ``syscall_table.py``
(see ``scripts/gen_syscall_table.py``). The category rules live here, once, in ``_RULES``:
every syscall name of every generated table is listed in exactly one category, ``other``
included, so nothing lands in ``other`` by accident (the unit tests enforce it).

Debatable placements, chosen the way a heavy strace user reads a profile:

* poll/select/epoll → ``ipc``: they wait for readiness, mostly on sockets, pipes and
  eventfds; counting them as ``file_io`` would make an idle server look disk-bound.
* membarrier, rseq → ``sync``: both exist to make lock-free thread synchronisation cheap.
* memfd_create, memfd_secret, userfaultfd, process_vm_readv/writev → ``memory``.
* prctl, arch_prctl, unshare, setns, rlimits, getrusage, times → ``process``: per-process
  attributes, not privilege changes.
* kill, tkill, tgkill, pidfd_send_signal, pause, restart_syscall → ``signal``.
* chroot, credentials (get*/set*uid/gid/groups), capabilities, seccomp, landlock, keys →
  ``security``.
* ioprio_get/set, getcpu, get/setpriority → ``sched``.
* swapon/swapoff, mount family, modules, kexec, bpf, perf_event_open, getrandom → ``system``.
* ``other``: syscalls that are reserved, unimplemented or removed from the kernel.

Names newer than the headers of the build machine are listed too, so regenerating the
table on a newer kernel does not silently push them into ``other``.
"""

from __future__ import annotations

import platform
from functools import cache

from denet_tui.syscall_table import TABLES

CATEGORIES: tuple[str, ...] = (
    "file_io",
    "network",
    "memory",
    "process",
    "signal",
    "ipc",
    "sync",
    "time",
    "sched",
    "security",
    "system",
    "other",
)

CATEGORY_INDEX: dict[str, int] = {name: i for i, name in enumerate(CATEGORIES)}

OTHER = "other"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_RULES: dict[str, frozenset[str]] = {
    "file_io": _names(
        """
        read write pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2
        open openat openat2 creat close close_range name_to_handle_at open_by_handle_at
        dup dup2 dup3 fcntl ioctl flock lseek
        stat fstat lstat newfstatat statx statfs fstatfs ustat
        access faccessat faccessat2
        sendfile copy_file_range splice tee vmsplice
        fsync fdatasync sync syncfs sync_file_range
        truncate ftruncate fallocate fadvise64 readahead cachestat
        getdents getdents64 getcwd chdir fchdir
        mkdir mkdirat rmdir rename renameat renameat2
        link linkat unlink unlinkat symlink symlinkat readlink readlinkat mknod mknodat
        chmod fchmod fchmodat fchmodat2 chown fchown fchownat lchown umask
        utime utimes utimensat futimesat file_getattr file_setattr
        setxattr lsetxattr fsetxattr setxattrat getxattr lgetxattr fgetxattr getxattrat
        listxattr llistxattr flistxattr listxattrat
        removexattr lremovexattr fremovexattr removexattrat
        io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents
        io_uring_setup io_uring_enter io_uring_register
        inotify_init inotify_init1 inotify_add_watch inotify_rm_watch
        fanotify_init fanotify_mark
        """
    ),
    "network": _names(
        """
        socket socketpair bind listen accept accept4 connect shutdown
        getsockname getpeername getsockopt setsockopt
        sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg
        """
    ),
    "memory": _names(
        """
        mmap munmap mremap mprotect pkey_mprotect pkey_alloc pkey_free brk
        madvise process_madvise process_mrelease msync mincore remap_file_pages
        mlock mlock2 munlock mlockall munlockall mseal map_shadow_stack
        mbind get_mempolicy set_mempolicy set_mempolicy_home_node migrate_pages move_pages
        memfd_create memfd_secret userfaultfd process_vm_readv process_vm_writev
        """
    ),
    "process": _names(
        """
        fork vfork clone clone3 execve execveat uselib exit exit_group wait4 waitid
        getpid getppid gettid getpgid setpgid getpgrp getsid setsid set_tid_address
        pidfd_open pidfd_getfd kcmp ptrace unshare setns personality
        prctl arch_prctl set_thread_area get_thread_area modify_ldt
        getrlimit setrlimit prlimit64 getrusage times
        """
    ),
    "signal": _names(
        """
        rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigsuspend rt_sigtimedwait
        rt_sigqueueinfo rt_tgsigqueueinfo sigaltstack signalfd signalfd4
        kill tkill tgkill pidfd_send_signal pause restart_syscall
        """
    ),
    "ipc": _names(
        """
        pipe pipe2 eventfd eventfd2
        poll ppoll select pselect6
        epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait epoll_pwait2
        msgget msgsnd msgrcv msgctl semget semop semtimedop semctl shmget shmat shmdt shmctl
        mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr
        """
    ),
    "sync": _names(
        """
        futex futex_waitv futex_wake futex_wait futex_requeue
        set_robust_list get_robust_list rseq membarrier
        """
    ),
    "time": _names(
        """
        nanosleep clock_nanosleep clock_gettime clock_settime clock_getres clock_adjtime
        gettimeofday settimeofday time adjtimex alarm getitimer setitimer
        timer_create timer_delete timer_gettime timer_settime timer_getoverrun
        timerfd_create timerfd_gettime timerfd_settime
        """
    ),
    "sched": _names(
        """
        sched_yield sched_setparam sched_getparam sched_setscheduler sched_getscheduler
        sched_get_priority_max sched_get_priority_min sched_rr_get_interval
        sched_setaffinity sched_getaffinity sched_setattr sched_getattr
        getcpu getpriority setpriority ioprio_get ioprio_set
        """
    ),
    "security": _names(
        """
        getuid geteuid getgid getegid getresuid getresgid getgroups
        setuid setgid setreuid setregid setresuid setresgid setfsuid setfsgid setgroups
        capget capset seccomp chroot
        landlock_create_ruleset landlock_add_rule landlock_restrict_self
        add_key request_key keyctl lsm_get_self_attr lsm_set_self_attr lsm_list_modules
        """
    ),
    "system": _names(
        """
        uname sysinfo syslog reboot sethostname setdomainname getrandom vhangup acct
        mount umount2 pivot_root mount_setattr move_mount open_tree open_tree_attr
        fsopen fsconfig fsmount fspick statmount listmount sysfs quotactl quotactl_fd
        swapon swapoff init_module finit_module delete_module kexec_load kexec_file_load
        bpf perf_event_open lookup_dcookie ioperm iopl uretprobe uprobe
        """
    ),
    # Reserved slots, unimplemented or removed syscalls: nothing a live process spends time in.
    OTHER: _names(
        """
        afs_syscall tuxcall security vserver putpmsg getpmsg create_module get_kernel_syms
        query_module nfsservctl _sysctl epoll_ctl_old epoll_wait_old
        """
    ),
}

_CATEGORY_BY_NAME: dict[str, str] = {
    name: category for category, names in _RULES.items() for name in names
}

# platform.machine() spellings → our table names.
_ARCH_ALIASES: dict[str, str] = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
}


def rules() -> dict[str, frozenset[str]]:
    """The category → names rules (a copy), in CATEGORIES order."""
    return dict(_RULES)


def machine_arch() -> str | None:
    """Our table name for the running machine, or None when we have no table for it."""
    return _ARCH_ALIASES.get(platform.machine().lower())


def _resolve_arch(arch: str | None) -> str | None:
    if arch is None:
        return machine_arch()
    resolved = _ARCH_ALIASES.get(arch.lower())
    if resolved is None:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(TABLES)}")
    return resolved


def table(arch: str | None = None) -> dict[int, str]:
    """Number → name for ``arch`` (default: this machine; empty if unsupported)."""
    resolved = _resolve_arch(arch)
    return dict(TABLES[resolved]) if resolved else {}


def syscall_name(nr: int, arch: str | None = None) -> str:
    """Name of syscall ``nr``; numbers missing from the table keep their number."""
    resolved = _resolve_arch(arch)
    name = TABLES[resolved].get(nr) if resolved else None
    return name if name is not None else f"syscall_{nr}"


def known_syscall(name: str) -> bool:
    """A syscall name of some table of ours (or ``syscall_N``, as unnamed numbers are kept)."""
    return name in _CATEGORY_BY_NAME or (name.startswith("syscall_") and name[8:].isdigit())


def category_of(name: str) -> str:
    """Category of a syscall name; unknown names (e.g. ``syscall_999``) are ``other``."""
    return _CATEGORY_BY_NAME.get(name, OTHER)


def category_of_nr(nr: int, arch: str | None = None) -> str:
    return category_of(syscall_name(nr, arch))


@cache
def _category_indexes(arch: str | None) -> tuple[int, ...]:
    numbers = TABLES[arch] if arch else {}
    size = max(numbers, default=-1) + 1
    return tuple(CATEGORY_INDEX[category_of(numbers.get(nr, ""))] for nr in range(size))


def category_index_by_nr(arch: str | None = None) -> list[int]:
    """For each syscall number 0..max, its index into CATEGORIES (gaps are ``other``).

    Shaped for an eBPF array map keyed by syscall number.
    """
    return list(_category_indexes(_resolve_arch(arch)))


# What timing decides, not the work: waiting, polling, sleeping (how often a futex or a poll is
# called depends on who ran first), and what strace never counts (exit, exit_group).
TIMING_DEPENDENT = frozenset(
    [
        "futex",
        "futex_wait",
        "futex_wake",
        "futex_waitv",
        "poll",
        "ppoll",
        "select",
        "pselect6",
        "epoll_wait",
        "epoll_pwait",
        "epoll_pwait2",
        "nanosleep",
        "clock_nanosleep",
        "wait4",
        "waitid",
        "sched_yield",
        "restart_syscall",
        "rt_sigtimedwait",
        "rt_sigsuspend",
        "pause",
        "exit",
        "exit_group",
    ]
)
