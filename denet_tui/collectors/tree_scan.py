"""Find a tree's processes by scanning /proc (this kernel has no /proc/PID/task/TID/children)."""

from __future__ import annotations

import os

from denet_tui.collectors.proc_reader import read_stat


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _pid_max() -> int:
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 1 << 22


PID_MAX = _pid_max()


def last_pid() -> int | None:
    """The pid the kernel handed out last (/proc/loadavg's last field)."""
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


class TreeScanner:
    """The root and every descendant seen so far.

    A process stays in the tree once seen, even if its parent exits and it is reparented to
    init; identity is (pid, starttime) so a reused pid is not mistaken for a member.
    Children born and gone between two scans cannot be seen here (the eBPF collector sees them).
    With ``group`` (run mode: the command's own process group), a member of that group is in
    the tree even if its parent ended before any scan saw it (``sh -c 'job & exit'``).
    denet-tui itself is never in the tree, nor anything below it, even when it runs inside the
    watched tree (``attach 1``).
    """

    def __init__(self, root: int, group: int | None = None) -> None:
        self.root = root
        self.group = group
        # Never ourselves (``attach 1`` would count denet-tui's own work), nor what we start.
        self.excluded = os.getpid()
        self._members: dict[int, int] = {}  # pid -> starttime
        self._others: set[int] = set()  # pids seen that are not in the tree
        self._last_pid: int | None = None
        st = read_stat(root)
        if st is not None:
            self._members[root] = st.starttime

    def scan(self) -> list[int]:
        """Live members now (root first, then in pid order).

        Only processes that are new since the last scan are read: pids are handed out in
        increasing order and wrap around only after ``pid_max`` more processes, so a pid seen
        last time still belongs to the same process (member or not) unless that many were
        created since; when the kernel's last pid says so, everything is read again.
        """
        pids = all_pids()
        last = last_pid()
        wrapped = (
            self._last_pid is None
            or last is None
            or (last - self._last_pid) % PID_MAX >= PID_MAX // 2
        )
        self._last_pid = last
        known: set[int] = set() if wrapped else self._others
        members = self._members
        stale = list(members) if wrapped else []  # members to check for a reused pid
        stats = {}
        for pid in pids:
            if pid in known or (pid in members and not wrapped):
                continue
            st = read_stat(pid)
            if st is not None:
                stats[pid] = st
        # Drop members whose pid now belongs to someone else.
        for pid in stale:
            st = stats.get(pid)
            if st is not None and st.starttime != members[pid]:
                del members[pid]
        # Add new descendants until nothing changes (a child may appear before its parent).
        changed = True
        while changed:
            changed = False
            for pid, st in stats.items():
                if pid in members or pid == self.excluded:
                    continue
                if st.ppid in members:
                    # A child cannot be older than its parent; guards against a reused parent pid.
                    joins = st.starttime >= members[st.ppid]
                else:
                    joins = st.pgrp == self.group and st.starttime >= members.get(
                        self.root, st.starttime
                    )
                if joins:
                    members[pid] = st.starttime
                    changed = True
        present = set(pids)
        self._others = {p for p in known if p in present} | {p for p in stats if p not in members}
        for pid in [p for p in members if p not in present]:
            del members[pid]  # gone: its pid may be handed out again after a wrap
        live = [p for p in members if p in present]
        return sorted(live, key=lambda p: (p != self.root, p))


def descendants(root: int) -> list[int]:
    """Root and its live descendants right now (used to seed an attach)."""
    return TreeScanner(root).scan()
