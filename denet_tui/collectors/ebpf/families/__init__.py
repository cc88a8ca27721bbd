"""Probe families: each one a BPF source (``bpf/<name>.bpf.h`` and ``.bpf.c``) and a reader here.

A family brings its compile-time defines, reads its maps each sample, and adds its figures to
the processes and to the tree. ``--probes`` chooses among them; by default, all of them.
"""

from __future__ import annotations

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.ebpf.families.base import Family
from denet_tui.collectors.ebpf.families.disk import DiskFamily
from denet_tui.collectors.ebpf.families.exec import ExecFamily
from denet_tui.collectors.ebpf.families.files import FilesFamily
from denet_tui.collectors.ebpf.families.memory import MemoryFamily
from denet_tui.collectors.ebpf.families.network import NetworkFamily
from denet_tui.collectors.ebpf.families.privileges import PrivilegesFamily
from denet_tui.collectors.ebpf.families.sched import SchedFamily
from denet_tui.collectors.ebpf.families.signals import SignalsFamily
from denet_tui.collectors.ebpf.families.syscalls import SyscallsFamily

FAMILIES: dict[str, type[Family]] = {
    "syscalls": SyscallsFamily,
    "sched": SchedFamily,
    "memory": MemoryFamily,
    "exec": ExecFamily,
    "files": FilesFamily,
    "signals": SignalsFamily,
    "privileges": PrivilegesFamily,
    "network": NetworkFamily,
    "disk": DiskFamily,
}


def parse_probes(text: str | None) -> frozenset[str]:
    """``--probes`` (comma-separated family names, "all", or "none") as a set of names."""
    if text is None or text.strip() == "all":
        return frozenset(FAMILIES)
    if text.strip() == "none":
        return frozenset()
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise CollectorError(
            f"no probe family named (give some of {', '.join(FAMILIES)}, or all, or none)"
        )
    if names & {"all", "none"}:
        raise CollectorError("all and none stand alone: not in a list with other names")
    unknown = sorted(names - FAMILIES.keys())
    if unknown:
        raise CollectorError(
            f"unknown probe famil{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)} "
            f"(known: {', '.join(FAMILIES)}, or all, or none)"
        )
    return names


__all__ = ["FAMILIES", "Family", "parse_probes"]
