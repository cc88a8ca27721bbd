"""Find a tree's processes by scanning /proc (this kernel has no /proc/PID/task/TID/children)."""

from __future__ import annotations

import os

from denet_tui.collectors.proc_reader import read_stat


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


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
        st = read_stat(root)
        if st is not None:
            self._members[root] = st.starttime

    def scan(self) -> list[int]:
        """Live members now (root first, then in pid order)."""
        stats = {}
        for pid in all_pids():
            st = read_stat(pid)
            if st is not None:
                stats[pid] = st
        # Drop members whose pid now belongs to someone else.
        for pid, start in list(self._members.items()):
            st = stats.get(pid)
            if st is not None and st.starttime != start:
                del self._members[pid]
        # Add descendants until nothing changes (a child may appear before its parent in pid order).
        changed = True
        while changed:
            changed = False
            for pid, st in stats.items():
                if pid in self._members or pid == self.excluded:
                    continue
                if st.ppid in self._members:
                    # A child cannot be older than its parent; guards against a reused parent pid.
                    joins = st.starttime >= self._members[st.ppid]
                else:
                    joins = st.pgrp == self.group and st.starttime >= self._members.get(
                        self.root, st.starttime
                    )
                if joins:
                    self._members[pid] = st.starttime
                    changed = True
        live = [p for p in self._members if p in stats]
        return sorted(live, key=lambda p: (p != self.root, p))


def descendants(root: int) -> list[int]:
    """Root and its live descendants right now (used to seed an attach)."""
    return TreeScanner(root).scan()
