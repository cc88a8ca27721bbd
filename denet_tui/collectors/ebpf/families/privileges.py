"""Family "privileges": what the tree did that needs or changes privilege (``bpf/privileges``).

Capability checks are counted in the kernel per (process, program, capability, granted or
denied): each thread counts its run of equal checks in its own state, which goes to a table
when another check comes or the thread ends. Each sample drains that table into the
per-(process, program, capability) figures kept here, adds the live threads' runs (read with
their states), and hands the snapshot the rows that changed. Each privileged call (uid/gid
changes, capset, ptrace, mount and namespace operations, chroot, bpf, memfd_create, seccomp,
prctl) is an event through a ring buffer (see ``events``), with its arguments decoded, its
result and the uid/gid after it.
"""

from __future__ import annotations

import ctypes as ct
import errno
import struct
from dataclasses import dataclass
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.families.base import SharedProgram
from denet_tui.collectors.ebpf.families.events import EventFamily
from denet_tui.collectors.ebpf.layout import PRIV_CALLS, PRIV_STR, TASK_COMM_LEN, RawPrivEvent
from denet_tui.collectors.ebpf.support import tracefs_fields
from denet_tui.evolve import evolve
from denet_tui.model import CapabilityStat, PrivilegeEvent
from denet_tui.privileges import capability_name, describe
from denet_tui.rawtext import c_string

MAX_CAP_KEYS = 16384  # (process, capability, result) entries in the kernel between two samples
# (process, program, capability) rows followed here; the rest counted as left out
MAX_CAP_ROWS = 10_000
# capability:cap_capable's arguments (its fields, in order), as the raw tracepoint reads them.
CAP_CAPABLE_ARGS = ["cred", "target_ns", "capable_ns", "cap", "ret"]
KEY_FMT = f"IIII{TASK_COMM_LEN}s"  # struct cap_key: tgid, serial, cap, denied, comm
VAL_FMT = "QQQ"  # struct cap_val: count, first_ns, last_ns
RUN_FMT = f"=QQQIIII{TASK_COMM_LEN}s"  # struct cap_run: count, first, last, cap, denied, …
Run = tuple[int, int, int, int, int, int, int, bytes]  # (unpacked RUN_FMT)


@dataclass(slots=True)
class _Checks:
    pid: int
    name: str
    granted: int = 0
    denied: int = 0
    first_ns: int = 0
    last_ns: int = 0

    def add(self, count: int, denied: int, first_ns: int, last_ns: int) -> None:
        if denied:
            self.denied += count
        else:
            self.granted += count
        self.first_ns = min(self.first_ns, first_ns)
        self.last_ns = max(self.last_ns, last_ns)


class PrivilegesFamily(EventFamily):
    name = "privileges"
    source = "privileges"
    ring = b"priv_events"
    field = "privileges"
    lost = "privileges_lost"
    raw = RawPrivEvent
    shared = (
        SharedProgram("sys_enter_privileges", "enter", PRIV_CALLS),
        SharedProgram("sys_exit_privileges", "exit", PRIV_CALLS),
    )

    def __init__(self) -> None:
        super().__init__()
        self._checks: dict[tuple[int, str, int], _Checks] = {}  # by (serial, program, cap)
        self._changed: set[tuple[int, str, int]] = set()
        # Each row as last sent, the latest MAX_CAP_ROWS (a run drained after its process was
        # forgotten is the same figures).
        self._emitted: dict[tuple[int, str, int], CapabilityStat] = {}
        self._runs: dict[int, dict[int, Run]] = {}  # serial -> tid -> its live thread's run
        # (serial, tid) -> its run as last shown, and the row it counts under
        self._shown_runs: dict[tuple[int, int], tuple[Run, tuple[int, str, int]]] = {}
        self.left_out = 0  # checks of rows beyond MAX_CAP_ROWS

    def defines(self) -> dict[str, int | str]:
        # The raw tracepoint where its arguments are the ones we know, by position (the
        # event's fields are its arguments, in order).
        raw = tracefs_fields("capability/cap_capable") == CAP_CAPABLE_ARGS
        return {
            "PRIV_STR": PRIV_STR,
            "MAX_CAP_KEYS": MAX_CAP_KEYS,
            "CAP_RAW": int(raw),
            "PRIV_PRCTL": PRIV_CALLS.index("prctl"),
        }

    def bind(self, bpf: Any, state: type[ct.Structure]) -> None:
        super().bind(bpf, state)
        self._caps = bpf[b"cap_stats"]
        self._run_at = state.cr.offset // 8  # type: ignore[attr-defined]
        self._run_end = self._run_at + struct.calcsize(RUN_FMT) // 8
        # The entry time of the thread's call in progress (the syscalls family's), which names
        # the exec a run of checks is of (struct cap_run's in_exec); None without it.
        sc = getattr(state, "sc", None)
        self._call_at = sc.offset // 8 if sc is not None else None

    def decode(self, raw: RawPrivEvent) -> PrivilegeEvent:
        call = PRIV_CALLS[raw.call] if raw.call < len(PRIV_CALLS) else f"call {raw.call}"
        path = c_string(bytes(raw.str)) + ("…" if raw.str_cut else "")
        failed = raw.ret < 0 and call not in ("setfsuid", "setfsgid")  # they return the old id
        return PrivilegeEvent(
            ts=self.ts(raw.ns),
            pid=raw.pid,
            name=c_string(bytes(raw.comm)),
            call=call,
            detail=describe(call, tuple(raw.args)),
            path=path or None,
            result=raw.ret,
            error=errno.errorcode.get(-raw.ret, f"errno {-raw.ret}") if failed else None,
            uid=raw.uid,
            gid=raw.gid,
        )

    def read_ended(self, known: set[int]) -> None:
        """The new events (``EventFamily``), and the capability checks since the last sample:
        the table is drained (each entry taken out as it is read), so it holds only what came
        since, however long the run."""
        super().read_ended(known)
        checks = self._checks
        for (tgid, serial, cap, denied, comm), (count, first_ns, last_ns) in bpf_maps.dump_raw(
            self._caps, KEY_FMT, VAL_FMT, delete=True
        ):
            name = c_string(comm)
            row = (serial, name, cap)
            acc = checks.get(row)
            if acc is None:
                if len(checks) >= MAX_CAP_ROWS:
                    self.left_out += count
                    continue
                acc = checks[row] = _Checks(pid=tgid, name=name, first_ns=first_ns)
            acc.add(count, denied, first_ns, last_ns)
            self._changed.add(row)

    def begin_live(self, active: set[int]) -> None:
        for serial in active:
            self._runs.pop(serial, None)  # read again next; idle ones' runs stand

    def add_thread(self, serial: int, tid: int, words: memoryview) -> None:
        run: Run = struct.unpack(RUN_FMT, words[self._run_at : self._run_end].tobytes())
        if not run[0]:
            return
        if run[6] and self._call_at is not None:
            entered = words[self._call_at]
            if entered and (entered & 0xFFFFFFFF) | 1 == run[6]:
                # The checks of an exec still loading its program: named by it if it
                # succeeds (shown now, they would count under the old name as well).
                return
        self._runs.setdefault(serial, {})[tid] = run

    def forget(self, serials: list[int]) -> None:
        for serial in serials:
            self._runs.pop(serial, None)
        gone = set(serials)
        self._shown_runs = {k: v for k, v in self._shown_runs.items() if k[0] not in gone}

    def _with_runs(self) -> dict[tuple[int, str, int], _Checks]:
        """The rows whose runs in live threads changed since the last snapshot, with those
        runs added (the drained figures stay as they are)."""
        out: dict[tuple[int, str, int], _Checks] = {}
        shown: dict[tuple[int, int], tuple[Run, tuple[int, str, int]]] = {}
        before = self._shown_runs
        for serial, threads in self._runs.items():
            for tid, run in threads.items():
                last = before.get((serial, tid))
                if last is not None and last[0] == run:
                    shown[serial, tid] = last  # unchanged: its row as made before
                    continue
                row = (serial, c_string(run[7]), run[3])
                shown[serial, tid] = (run, row)
                self._changed.add(row)
        # (A run that went to the table since is in the drained figures: its row changed.)
        self._shown_runs = shown
        if not self._changed:
            return out  # (the common case with many idle threads: nothing to sum)
        for run, row in shown.values():
            if row not in self._changed:
                continue
            count, first_ns, last_ns, cap, denied, tgid, _in_exec, comm = run
            acc = out.get(row)
            if acc is None:
                base = self._checks.get(row) or _Checks(pid=tgid, name=row[1])
                acc = out[row] = evolve(base, first_ns=base.first_ns or first_ns)
            acc.add(count, denied, first_ns, last_ns)
        return out

    def snapshot_fields(self) -> dict[str, Any]:
        live = self._with_runs()
        changed, self._changed = self._changed, set()
        rows = []
        emitted = self._emitted
        for row in sorted(changed):
            acc = live.get(row) or self._checks.get(row)
            if acc is None:
                continue
            stat = CapabilityStat(
                pid=acc.pid,
                name=acc.name,
                capability=capability_name(row[2]),
                granted=acc.granted,
                denied=acc.denied,
                first_ts=self.ts(acc.first_ns),
                last_ts=self.ts(acc.last_ns),
            )
            # A run of checks shown while it ran, then moved to the kernel's table, is the
            # same figures: not sent again (a trial saw such rows twice).
            if emitted.get(row) != stat:
                emitted.pop(row, None)  # (to the end: the oldest go first)
                emitted[row] = stat
                rows.append(stat)
                if len(emitted) > MAX_CAP_ROWS:
                    del emitted[next(iter(emitted))]
        return {**super().snapshot_fields(), "capabilities": tuple(rows)}

    def diagnostics(self, kernel: dict[str, int]) -> dict[str, Any]:
        return {
            **super().diagnostics(kernel),
            "caps_full": kernel["caps_full"],
            "caps_rows": len(self._checks),
            "caps_left_out": self.left_out,
        }
