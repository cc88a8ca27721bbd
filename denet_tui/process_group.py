"""Reading a process's state and its process group from /proc (no psutil: cheap, and safe to
call in a forked child)."""

from __future__ import annotations

import os


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ..."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :].split()


def state(pid: int) -> str | None:
    fields = stat_fields(pid)
    return fields[0].decode() if fields else None


def process_of(tid: int) -> int | None:
    """The process (tgid) thread ``tid`` belongs to, while it lives (/proc/TID opens for any
    thread, though only processes are listed)."""
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            return next((int(ln.split()[1]) for ln in f if ln.startswith(b"Tgid:")), None)
    except (OSError, ValueError, IndexError):
        return None


STOPPED = ("T", "t")  # stopped by a signal (kill -STOP, ctrl+z), or by a tracer


def stopped(pid: int) -> bool:
    return state(pid) in STOPPED


def ignores(pid: int, sig: int) -> bool:
    """Process ``pid`` ignores signal ``sig`` (its SigIgn mask); False if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            line = next((ln for ln in f if ln.startswith(b"SigIgn:")), None)
    except OSError:
        return False
    return line is not None and bool(int(line.split()[1], 16) >> (sig - 1) & 1)


def group_members(pgid: int) -> list[int]:
    """Processes of process group ``pgid`` that have not ended (zombies are not counted)."""
    members = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                members.append(int(entry.name))
    return members
