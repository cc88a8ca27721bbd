"""Which processes are ours, in the kernel's words: the ``tracked`` and ``procs`` maps.

Seeding puts processes that already exist into the tree (the gated ``run`` child; an attached
process and its descendants); the kernel adds what they fork. Each sample reads ``procs`` (who
exists or existed), ``active`` (whose threads changed), then those processes' live threads'
states through pidfds; processes reported ended are reaped from the kernel maps.
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import errno
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.ebpf.layout import (
    ARGV_FAULT,
    ARGV_TRUNCATED,
    PID_LIMIT,
    PROC_EXITED,
    TRK_FLUSHING,
    TRK_WAIT_EXEC,
    ExecArgv,
)
from denet_tui.collectors.proc_reader import read_stat
from denet_tui.collectors.tree_scan import descendants
from denet_tui.model import ProcessSample
from denet_tui.rawtext import c_string, decoded

MAX_PROCS = 65536  # tracked at once, or ended and not yet read
# A process is reported ended once this long has passed since its end: threads of it still
# inside exit have then moved their figures into the maps.
SETTLE_NS = 5_000_000
# ... and at most this long for a family to say its figures are final (a thread stuck on its way
# out: reported as it is then, and what comes later is counted as late).
SETTLE_MAX_NS = 2_000_000_000
BPF_NOEXIST = 1
PIDFD_THREAD = os.O_EXCL  # pidfd_open() of a thread that is not a group leader (Linux >= 6.9)


def argv_strings(a: ExecArgv) -> tuple[str, ...]:
    """The arguments the kernel read of an exec, as strings (undecodable bytes escaped)."""
    if not a.argc:
        return ()
    buf = ExecArgv.buf  # (a.buf reads only up to the first NUL)
    raw = ct.string_at(ct.addressof(a) + buf.offset, min(a.len, buf.size))
    return _argv_text(a.argc, raw)


@lru_cache(maxsize=1024)
def _argv_text(argc: int, raw: bytes) -> tuple[str, ...]:
    # Cached: a build or a loop runs the same command lines again and again (each is read
    # twice: at its exec, and for its process).
    return tuple(decoded(b) for b in raw.split(b"\0")[:argc])


@dataclass
class Proc:
    serial: int
    tgid: int
    ppid: int | None
    comm: str
    start_ns: int = 0  # kernel monotonic clock at fork (seeded processes: 0, in seed order)
    exited: bool = False
    exit_ns: int = 0
    exit_status: int | None = None  # exit code, or 128 + the signal that ended it
    reported: bool = False  # listed as ended in a snapshot: never listed again
    proc: ProcessSample | None = None  # last /proc reading


class Tracker:
    def __init__(
        self,
        bpf: Any,
        cpu_bits: int,
        state: type[ct.Structure],
        on_seed: Callable[[int, int, bool], None] = lambda serial, pid, gated: None,
    ) -> None:
        self._on_seed = on_seed  # told (serial, pid, gated) of each process seeded
        self._tracked = bpf[b"tracked"]
        self._bits = bpf_maps.PidBits(bpf, "tracked_bits", PID_LIMIT)
        self._procs_map = bpf[b"procs"]
        self._active = bpf[b"active"]
        self._argv = bpf[b"exec_argv"]
        self._argv_buf = ExecArgv()
        self._generation = bpf[b"generation"]
        self._gen = 1  # a new thread's mark (0) is never current: its first change marks it
        self._generation[ct.c_int(0)] = ct.c_uint32(self._gen)
        self._tstate_fd = bpf_maps.table_fd(bpf, "tstate")
        self._state = state
        self._cpu_bits = cpu_bits
        self._next_seed = 1
        self.procs: dict[int, Proc] = {}  # by serial
        self.kernel_procs = 0  # entries in `procs` at the last read
        self.thread_read_errors = 0
        ns = bpf[b"next_serial"]
        ns[ct.c_int(0)] = ns.Leaf(*([1] * ns.total_cpu))

    # -- seeding -------------------------------------------------------------------------

    def seed(self, pid: int, flags: int = 0) -> bool:
        """Track an existing process. False when it is tracked already (the kernel was faster)."""
        st = read_stat(pid)
        # The all-ones CPU value is never a CPU: user space's seeds.
        serial = (self._next_seed << self._cpu_bits) | ((1 << self._cpu_bits) - 1)
        self._next_seed += 1
        info = self._procs_map.Leaf()
        info.tgid = pid
        info.ppid = st.ppid if st else 0
        info.comm = (st.comm if st else "?").encode()[:15]
        key = ct.c_uint32(serial)
        # procs first, so an exit seen right after `tracked` is set finds its entry.
        self._procs_map[key] = info
        tv = self._tracked.Leaf(serial, flags)
        self._bits.set(pid, True)  # before `tracked`: the programs look it up once it is set
        if bpf_maps.update(self._tracked, ct.c_uint32(pid), tv, BPF_NOEXIST) != 0:
            del self._procs_map[key]
            return False
        self.procs[serial] = Proc(
            serial=serial, tgid=pid, ppid=info.ppid or None, comm=st.comm if st else "?"
        )
        self._on_seed(serial, pid, bool(flags & TRK_WAIT_EXEC))
        if st is not None:
            after = read_stat(pid)
            if after is None or after.starttime != st.starttime:
                # Ended (or its pid was reused) while we were seeding: not ours to follow.
                with contextlib.suppress(KeyError):
                    del self._tracked[ct.c_uint32(pid)]
                self._bits.set(pid, False)
                self.procs[serial].exited = True
                self.procs[serial].exit_ns = time.monotonic_ns()
        return True

    def seed_tree(self, root: int) -> None:
        """Attach: the root, every live descendant, and whatever they fork while we seed."""
        seeded: set[int] = set()
        for _ in range(5):
            new = [p for p in descendants(root) if p not in seeded]
            if not new:
                break
            for pid in new:
                seeded.add(pid)
                self.seed(pid)

    # -- reading -------------------------------------------------------------------------

    def read_procs(self) -> None:
        entries = bpf_maps.dump(self._procs_map)
        self.kernel_procs = len(entries)
        for key, info in entries:
            serial = key.value
            p = self.procs.get(serial)
            if p is None:
                p = Proc(
                    serial=serial,
                    tgid=info.tgid,
                    ppid=info.ppid or None,
                    comm=c_string(info.comm),
                    start_ns=info.start_ns,
                )
                self.procs[serial] = p
            else:
                p.comm = c_string(info.comm) or p.comm
            if info.flags & PROC_EXITED and not p.exited:
                p.exited = True
                p.exit_ns = info.exit_ns
            if info.exit_status:
                p.exit_status = info.exit_status - 1

    def unsettled_ns(self) -> int:
        """How long to wait until every process that ended has settled (0: none pending)."""
        now = time.monotonic_ns()
        return max(
            (
                SETTLE_NS - (now - p.exit_ns)
                for p in self.procs.values()
                if p.exited and not p.reported
            ),
            default=0,
        )

    def active(self) -> set[int]:
        """Serials of the processes whose threads changed state since the previous call, or
        the one before: a mark made while we read (the program read the old generation, its
        update lands after our dump) is caught the next time. Call after reading the maps of
        ended threads: a thread that ends marks before it moves its figures there."""
        since = self._gen - 1
        self._gen += 1
        self._generation[ct.c_int(0)] = ct.c_uint32(self._gen)
        return {key[0] for key, (gen,) in bpf_maps.dump_raw(self._active, "I", "I") if gen >= since}

    def live_threads(self, active: set[int]) -> Iterator[tuple[int, int, memoryview]]:
        """(serial, tid, state as u64 words) of every live thread of the ``active`` processes,
        one at a time (the words are only valid until the next one)."""
        buf = self._state()
        words = memoryview(buf).cast("B").cast("Q")
        procs = self.procs
        for serial in active:
            p = procs.get(serial)
            if p is None or p.exited:
                continue
            if p.proc is not None and p.proc.threads == 1:
                # Single-threaded at the last reading: a thread made since is read next time
                # (its figures are never lost: they reach the maps when it ends).
                tids = [p.tgid]
            else:
                try:
                    tids = [int(t) for t in os.listdir(f"/proc/{p.tgid}/task")]
                except OSError:
                    continue
            for tid in tids:
                if not self._read_thread(tid, tid == p.tgid, buf):
                    continue
                if words[0] & 0xFFFFFFFF != p.serial or (words[0] >> 32) & TRK_FLUSHING:
                    continue  # not this process's thread (pid reused), or already moved out
                yield p.serial, tid, words

    def _read_thread(self, tid: int, leader: bool, buf: ct.Structure) -> bool:
        try:
            pidfd = os.pidfd_open(tid, 0 if leader else PIDFD_THREAD)
        except OSError as e:
            if e.errno not in (errno.ESRCH, errno.ENOENT):
                self.thread_read_errors += 1
            return False
        try:
            # Non-zero: no event seen from it yet, or the thread just ended.
            return bpf_maps.lookup(self._tstate_fd, ct.c_int(pidfd), buf)
        finally:
            os.close(pidfd)

    def argv(self, serial: int) -> tuple[tuple[str, ...] | None, bool]:
        """The arguments of the process's last exec, as the kernel read them from the caller,
        and whether they were cut short; None if it made none we saw, () if none could be
        read."""
        a = self._argv_buf
        if not bpf_maps.lookup(self._argv.map_fd, ct.c_uint32(serial), a):
            return None, False
        args = argv_strings(a)
        return args, bool(args and a.flags & (ARGV_TRUNCATED | ARGV_FAULT))

    def due_for_reaping(self) -> list[Proc]:
        """Processes reported ended: their kernel entries can go (anything of theirs that
        reaches the maps later is counted as late, see the syscalls family)."""
        return [p for p in self.procs.values() if p.reported]

    def reap(self, procs: list[Proc]) -> None:
        """Forget ``procs``: their kernel entries, and our own records of them."""
        keys = [(p.serial,) for p in procs]
        low = (1 << self._cpu_bits) - 1
        for p in procs:
            if p.serial & low == low:  # seeded by us: its bit is ours to clear
                self._bits.set(p.tgid, False)
        bpf_maps.delete_many(self._procs_map, keys, "I")
        bpf_maps.delete_many(self._active, keys, "I")
        bpf_maps.delete_many(self._argv, keys, "I")
        for p in procs:
            self.procs.pop(p.serial, None)

    def to_report(self) -> list[Proc]:
        """The processes a snapshot lists: the live ones and those that ended and were not
        reported yet, in the order they came into being (seeded ones first, in seed order)."""
        return sorted(
            (p for p in self.procs.values() if not p.reported), key=lambda p: (p.start_ns, p.serial)
        )
