"""The eBPF collector: exact syscall counts, errors and latency for the whole process tree.

The kernel side is ``bpf/syscalls.c`` (read its header comment first). In short: a tracked
process's children are tracked by the kernel from their first instruction; each thread counts
its syscalls into an array in its own task storage; when a thread ends, its array is added into
the ``stats`` hash, keyed by (process serial, syscall number). Every sample, user space reads
``procs`` (who exists / existed), then ``stats`` (ended threads), then the live threads' arrays
through pidfds — in that order, so a thread is never counted twice (see TRK_FLUSHING).

What is counted, so that the counts equal ``strace -f -c`` on the same command:
  - run mode: from the command's own execve on (the gated child is tracked before it execs,
    but what it does until then is the launcher's);
  - latency on (default): every call on entry, so exit/exit_group (which strace never shows)
    are counted too; errors and time on exit;
  - ``latency=False``: one tracepoint, sys_exit: exit/exit_group are never counted, the
    child's return from fork is not counted again, rt_sigreturn is recognised by its number
    being restored as -1.

Per-process CPU, memory and I/O figures come from /proc (``proc_reader``), like every live
collector. Latency histograms are kept per syscall for the whole tree; they are attached to the
tree summary (``Snapshot.syscalls.by_name[NAME].hist``), not to each process.
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import errno
import os
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from denet_tui.collectors import bpf_maps
from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.proc_reader import ProcessTable, read_stat
from denet_tui.collectors.tree_scan import descendants
from denet_tui.doctor import CAP_SYS_ADMIN, cap_eff, lacking_bpf_capabilities
from denet_tui.model import (
    CollectorInfo,
    ProcessSample,
    Snapshot,
    SyscallStat,
    SyscallSummary,
    summarize,
)
from denet_tui.syscalls import category_of, machine_arch, syscall_name, table
from denet_tui.target import Target

BPF_SOURCE = Path(__file__).resolve().parent / "bpf" / "syscalls.c"

NR_SLOTS = 512  # per-thread array size: every syscall number of x86_64/aarch64 today
HIST_BUCKETS = 36  # 2**35 ns ≈ 34 s; longer calls land in the last bucket
MAX_PROCS = 65536  # tracked at once, or ended and not yet read
MAX_STATS = 262144  # (process, syscall) pairs of ended threads not yet read
REAP_AFTER_NS = 200_000_000  # forget a process's kernel entries this long after it ended

# Flags shared with the C source.
TRK_WAIT_EXEC = 1
TRK_FLUSHING = 2
PROC_EXITED = 1
DIAG_NAMES = ("stats_full", "procs_full", "storage_fail", "new_procs", "exits")

# Register holding the syscall number at sys_exit (struct pt_regs member), per architecture.
_NR_REG = {"x86_64": "orig_ax", "aarch64": "syscallno"}
BPF_NOEXIST = 1
PIDFD_THREAD = os.O_EXCL  # pidfd_open() of a thread that is not a group leader (Linux >= 6.9)
TRACEFS_ROOTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")


# Per-syscall figures of one process: syscall number -> [count, errors, time_ns].
Counts = dict[int, list[int]]


def _add(dst: Counts, nr: int, count: int, errors: int, time_ns: int) -> None:
    v = dst.get(nr)
    if v is None:
        dst[nr] = [count, errors, time_ns]
    else:
        v[0] += count
        v[1] += errors
        v[2] += time_ns


def _merged(*parts: Counts | None) -> Counts:
    out: Counts = {}
    for part in parts:
        if part:
            for nr, (c, e, t) in part.items():
                _add(out, nr, c, e, t)
    return out


def _floored(counts: Counts, prev: Counts | None) -> Counts:
    """Never below what was shown before: a thread ending between our two reads is missed for
    one sample (never counted twice), and the true counters only grow."""
    if prev:
        for nr, old in prev.items():
            v = counts.setdefault(nr, [0, 0, 0])
            for i in range(3):
                if v[i] < old[i]:
                    v[i] = old[i]
    return counts


@dataclass
class _Proc:
    serial: int
    tgid: int
    ppid: int | None
    comm: str
    start_ns: int = 0  # kernel monotonic clock at fork (seeded processes: 0, in seed order)
    exited: bool = False
    exit_ns: int = 0
    reaped: bool = False  # kernel entries gone; `reaped_counts` holds the rest
    reaped_counts: Counts = field(default_factory=dict)
    shown: Counts | None = None  # last figures returned, the floor for the next ones
    proc: ProcessSample | None = None  # last /proc reading
    final: ProcessSample | None = None  # frozen sample once reaped and /proc is done


def _possible_cpus() -> int:
    try:
        from bcc.utils import get_possible_cpus

        return max(get_possible_cpus()) + 1
    except Exception:  # bcc missing or odd sysfs: a safe upper bound
        return os.cpu_count() or 1


def _tracefs_has(event: str, fieldname: str) -> bool:
    for root in TRACEFS_ROOTS:
        try:
            with open(f"{root}/events/{event}/format") as f:
                return f"{fieldname};" in f.read()
        except OSError:
            continue
    return False


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[list[str]]:
    """BCC/clang write warnings to fd 2; keep them off the user's terminal, keep them for errors."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode(errors="replace").splitlines())


def _one_line(exc: BaseException, stderr: list[str]) -> str:
    errors = [ln.strip() for ln in stderr if "error" in ln.lower()]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if errors:
        text += f" ({errors[0]})"
    return text


class EbpfCollector:
    """Exact syscalls for a process tree, from BPF programs on kernel tracepoints.

    The constructor compiles, loads and attaches the programs (a failure raises CollectorError
    with a one-line reason); ``start`` says which tree to follow; ``close`` detaches and frees
    everything and is safe to call more than once, from any exit path.
    """

    def __init__(self, interval_hint: float = 1.0, latency: bool = True) -> None:
        self.interval_hint = interval_hint
        self.latency = latency
        self.info = CollectorInfo(
            name="ebpf",
            syscalls="exact",
            reason="ebpf",
            share_basis="time" if latency else "count",
        )
        self._lock = threading.Lock()
        self._bpf = None
        self._target: Target | None = None
        self._t0 = 0.0
        self._procs: dict[int, _Proc] = {}
        self._table = ProcessTable()
        self._thread_read_errors = 0
        self._stat_keys: dict[int, list] = {}
        self._kernel_procs = self._kernel_stats = 0
        self._names: dict[int, tuple[str, str]] = {}
        self._arch = machine_arch()
        if self._arch not in _NR_REG:
            raise CollectorError(f"no syscall table for this architecture ({os.uname().machine})")
        self._ncpu = _possible_cpus()
        # Bits for the CPU in a serial; the all-ones value is never a CPU: user space's seeds.
        self._cpu_bits = max(1, self._ncpu.bit_length())
        self._next_seed = 1
        self._load()
        self._finalizer = weakref.finalize(self, bpf_maps.cleanup, self._bpf)

    # --- loading ---------------------------------------------------------------------------

    def _cflags(self) -> list[str]:
        nr = {name: number for number, name in table(self._arch).items()}
        defines = {
            "LATENCY": int(self.latency),
            "NR_SLOTS": NR_SLOTS,
            "MAX_PROCS": MAX_PROCS,
            "MAX_STATS": MAX_STATS,
            "HIST_BUCKETS": HIST_BUCKETS,
            "SERIAL_CPU_BITS": self._cpu_bits,
            "HAVE_GROUP_DEAD": int(_tracefs_has("sched/sched_process_exit", "group_dead")),
        }
        for name in ("execve", "execveat", "rt_sigreturn", "clone", "clone3", "fork", "vfork"):
            defines[f"NR_{name.upper()}"] = nr.get(name, -1)  # -1: no such call here
        flags = [f"-D{k}={int(v)}" for k, v in defines.items()]
        # A struct member name from our own table, never from the user.
        flags.append(f"-DSYSCALL_NR_REG={_NR_REG[self._arch]}")
        return flags

    def _load(self) -> None:
        try:
            from bcc import BPF
        except ImportError:
            raise CollectorError(
                "BCC is not importable (apt-get install python3-bpfcc; use a venv made with "
                "--system-site-packages)"
            ) from None
        missing = _missing_capabilities()
        if missing:
            raise CollectorError(f"not root: loading BPF programs needs root ({missing} missing)")
        try:
            source = BPF_SOURCE.read_text()
        except OSError as e:
            raise CollectorError(f"BPF source missing: {BPF_SOURCE}: {e.strerror}") from None
        stderr: list[str] = []
        try:
            with _quiet_stderr() as stderr:
                self._bpf = BPF(text=source.encode(), cflags=self._cflags())
            self._init_maps()
        except CollectorError:
            self._free()
            raise
        except Exception as e:  # BCC raises bare Exception; never a traceback for the user
            self._free()
            reason = _one_line(e, stderr)
            with contextlib.suppress(Exception):
                from denet_tui.doctor import ebpf_unavailable_reason

                why = ebpf_unavailable_reason()
                if why:
                    reason = f"{why} ({reason})"
            raise CollectorError(f"cannot load the BPF program: {reason}") from None

    def _init_maps(self) -> None:
        b = self._bpf
        self._tracked = b[b"tracked"]
        self._procs_map = b[b"procs"]
        self._stats = b[b"stats"]
        self._hist = b[b"hist"]
        self._diag = b[b"diag"]
        self._tstate_fd = bpf_maps.table_fd(b, "tstate")
        ns = b[b"next_serial"]
        ns[ct.c_int(0)] = ns.Leaf(*([1] * ns.total_cpu))
        self._state_type = _task_state_type(self.latency)

    def _free(self) -> None:
        b, self._bpf = self._bpf, None
        if b is not None:
            bpf_maps.cleanup(b)

    # --- the Collector protocol -------------------------------------------------------------

    def start(self, target: Target) -> None:
        with self._lock:
            if self._bpf is None:
                raise CollectorError("the eBPF collector is closed")
            self._target = target
            if target.mode == "run":
                # The child is forked and waits at the gate: follow it from its execve on.
                self._seed(target.pid, TRK_WAIT_EXEC)
            else:
                self._seed_tree(target.pid)
            self._table.update(p.tgid for p in self._procs.values() if not p.exited)
            self._t0 = time.monotonic()

    def sample(self) -> Snapshot:
        with self._lock:
            if self._bpf is None or self._target is None:
                raise CollectorError("the eBPF collector is not running")
            t_start = time.perf_counter()
            status = self._target.poll()
            self._read_procs()
            ended = self._read_stats()
            live = self._read_threads()
            self._reap(ended)
            processes = self._processes(ended, live)
            summary = summarize(processes, self.info.share_basis, exact=True)
            diagnostics = self._diagnostics(processes, time.perf_counter() - t_start)
            return Snapshot(
                t=time.monotonic() - self._t0,
                ts=time.time(),
                target=status,
                processes=processes,
                syscalls=self._with_hist(summary),
                diagnostics=diagnostics,
            )

    def close(self) -> None:
        with self._lock:
            self._free()
            self._finalizer.detach()

    def __enter__(self) -> EbpfCollector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def program_ids(self) -> list[int]:
        """Kernel ids of our loaded programs (from /proc/self/fdinfo), for cleanup checks."""
        b = self._bpf
        if b is None:
            return []
        ids = []
        for fn in list(b.funcs.values()):
            with contextlib.suppress(OSError, ValueError), open(f"/proc/self/fdinfo/{fn.fd}") as f:
                ids += [int(ln.split()[1]) for ln in f if ln.startswith("prog_id:")]
        return ids

    # --- seeding ----------------------------------------------------------------------------

    def _seed(self, pid: int, flags: int = 0) -> bool:
        """Track an existing process. False when it is tracked already (the kernel was faster)."""
        st = read_stat(pid)
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
        if bpf_maps.update(self._tracked, ct.c_uint32(pid), tv, BPF_NOEXIST) != 0:
            del self._procs_map[key]
            return False
        self._procs[serial] = _Proc(
            serial=serial, tgid=pid, ppid=info.ppid or None, comm=st.comm if st else "?"
        )
        if st is not None:
            after = read_stat(pid)
            if after is None or after.starttime != st.starttime:
                # Ended (or its pid was reused) while we were seeding: not ours to follow.
                with contextlib.suppress(KeyError):
                    del self._tracked[ct.c_uint32(pid)]
                self._procs[serial].exited = True
                self._procs[serial].exit_ns = time.monotonic_ns()
        return True

    def _seed_tree(self, root: int) -> None:
        """Attach: the root, every live descendant, and whatever they fork while we seed."""
        seeded: set[int] = set()
        for _ in range(5):
            new = [p for p in descendants(root) if p not in seeded]
            if not new:
                break
            for pid in new:
                seeded.add(pid)
                self._seed(pid)

    # --- reading ----------------------------------------------------------------------------

    def _read_procs(self) -> None:
        entries = bpf_maps.dump(self._procs_map)
        self._kernel_procs = len(entries)
        for key, info in entries:
            serial = key.value
            p = self._procs.get(serial)
            if p is None:
                p = _Proc(
                    serial=serial,
                    tgid=info.tgid,
                    ppid=info.ppid or None,
                    comm=info.comm.decode(errors="backslashreplace"),
                    start_ns=info.start_ns,
                )
                self._procs[serial] = p
            else:
                p.comm = info.comm.decode(errors="backslashreplace") or p.comm
            if info.flags & PROC_EXITED and not p.exited:
                p.exited = True
                p.exit_ns = info.exit_ns

    def _read_stats(self) -> dict[int, Counts]:
        """Figures of ended threads, per serial; their keys are kept for reaping."""
        ended: dict[int, Counts] = {}
        self._stat_keys = {}
        rows = bpf_maps.dump_raw(self._stats, "II", "QQQ" if self.latency else "QQ")
        self._kernel_stats = len(rows)
        for (serial, nr), v in rows:
            _add(ended.setdefault(serial, {}), nr, v[0], v[1], v[2] if self.latency else 0)
            self._stat_keys.setdefault(serial, []).append((serial, nr))
        return ended

    def _read_threads(self) -> dict[int, Counts]:
        """Figures of live threads, read from their task storage through pidfds."""
        live: dict[int, Counts] = {}
        buf = self._state_type()
        words = memoryview(buf).cast("B").cast("Q")
        stride = 3 if self.latency else 2
        for p in self._procs.values():
            if p.exited:
                continue
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{p.tgid}/task")]
            except OSError:
                continue
            acc = live.setdefault(p.serial, {})
            for tid in tids:
                if not self._read_thread(tid, tid == p.tgid, buf):
                    continue
                if words[0] & 0xFFFFFFFF != p.serial or (words[0] >> 32) & TRK_FLUSHING:
                    continue  # not this process's thread (pid reused), or already in `stats`
                counts = words[3::stride]
                for nr, c in enumerate(counts):
                    if c:
                        at = 3 + nr * stride
                        _add(acc, nr, c, words[at + 1], words[at + 2] if self.latency else 0)
        return live

    def _read_thread(self, tid: int, leader: bool, buf: ct.Structure) -> bool:
        try:
            pidfd = os.pidfd_open(tid, 0 if leader else PIDFD_THREAD)
        except OSError as e:
            if e.errno not in (errno.ESRCH, errno.ENOENT):
                self._thread_read_errors += 1
            return False
        try:
            key = ct.c_int(pidfd)
            # Non-zero: no syscall seen from it yet, or the thread just ended.
            return bpf_maps.lookup(self._tstate_fd, key, buf)
        finally:
            os.close(pidfd)

    def _reap(self, ended: dict[int, Counts]) -> None:
        """Move processes that ended a while ago out of the kernel maps."""
        now = time.monotonic_ns()
        doomed: list[tuple[int, int]] = []
        for serial, p in self._procs.items():
            if not p.exited or now - p.exit_ns < REAP_AFTER_NS:
                continue
            keys = self._stat_keys.get(serial, [])
            if p.reaped and not keys:
                continue
            # A late thread of an ended process may still add to `stats`: merge it in too.
            p.reaped_counts = _merged(p.reaped_counts, ended.pop(serial, None))
            doomed += keys
            if not p.reaped:
                with contextlib.suppress(KeyError):
                    del self._procs_map[ct.c_uint32(serial)]
                p.reaped = True
            p.final = None  # rebuilt once more below, then reused
        bpf_maps.delete_many(self._stats, doomed)

    def _read_hist(self, names: set[str]) -> dict[str, tuple[int, ...]]:
        """The tree's latency histogram of each syscall in ``names`` (summed over CPUs)."""
        out: dict[str, tuple[int, ...]] = {}
        for nr in range(NR_SLOTS):
            name = self._name(nr)[0]
            if name not in names:
                continue
            buckets = [0] * HIST_BUCKETS
            for cpu_val in self._hist[ct.c_int(nr)]:
                for i, v in enumerate(cpu_val.b):
                    buckets[i] += v
            out[name] = tuple(buckets)
        return out

    # --- building the snapshot ----------------------------------------------------------------

    def _processes(self, ended: dict[int, Counts], live: dict[int, Counts]) -> list[ProcessSample]:
        live_pids = [p.tgid for p in self._procs.values() if not p.exited]
        fresh = {s.pid: s for s in self._table.update(live_pids) if s.alive}
        out: list[ProcessSample] = []
        # In the order they came into being (seeded ones first, in seed order).
        for p in sorted(self._procs.values(), key=lambda p: (p.start_ns, p.serial)):
            if p.final is not None:
                out.append(p.final)
                continue
            if not p.exited and p.tgid in fresh:
                p.proc = fresh[p.tgid]
            counts = _merged(p.reaped_counts, ended.get(p.serial), live.get(p.serial))
            p.shown = _floored(counts, p.shown)
            sample = self._sample_of(p)
            if p.reaped:
                p.final = sample
            out.append(sample)
        return out

    def _sample_of(self, p: _Proc) -> ProcessSample:
        c = p.shown or {}
        by_name: dict[str, SyscallStat] = {}
        for nr in sorted(c):
            count, errors, time_ns = c[nr]
            name, category = self._name(nr)
            by_name[name] = SyscallStat(
                category=category,
                count=count,
                errors=errors,
                time_ns=time_ns if self.latency else None,
            )
        total = sum(v[0] for v in c.values())
        base = p.proc
        if base is None:
            # Born and gone between two readings of /proc: the kernel saw it, /proc never did.
            gone = "process ended before /proc could be read"
            target = self._target
            # The command we started: its argv is the one we passed to execve.
            ours = target is not None and target.mode == "run" and p.tgid == target.pid
            return ProcessSample(
                pid=p.tgid,
                ppid=p.ppid,
                name=p.comm,
                cmdline=target.cmd if ours and target is not None else (),
                alive=not p.exited,
                syscalls=total,
                syscalls_by_name=by_name,
                null_reasons={
                    k: gone
                    for k in (
                        "cpu_percent",
                        "cpu_time_s",
                        "rss_bytes",
                        "read_bytes",
                        "write_bytes",
                        "read_chars",
                        "write_chars",
                        "state",
                        "threads",
                        "ctx_voluntary",
                        "ctx_involuntary",
                        "minor_faults",
                        "major_faults",
                        "read_syscalls",
                        "write_syscalls",
                    )
                }
                if p.exited
                else {},
            )
        extra = {}
        if p.exited:
            extra = {"alive": False, "cpu_percent": 0.0, "rss_bytes": 0, "state": None}
        return replace(
            base,
            pid=p.tgid,
            ppid=p.ppid if p.ppid is not None else base.ppid,
            name=p.comm if p.exited else base.name,
            syscalls=total,
            syscalls_by_name=by_name,
            **extra,
        )

    def _name(self, nr: int) -> tuple[str, str]:
        got = self._names.get(nr)
        if got is None:
            name = syscall_name(nr, self._arch)
            got = self._names[nr] = (name, category_of(name))
        return got

    def _with_hist(self, summary: SyscallSummary) -> SyscallSummary:
        if not self.latency:
            return summary
        hists = self._read_hist(set(summary.by_name))
        by_name = {name: replace(st, hist=hists.get(name)) for name, st in summary.by_name.items()}
        return replace(summary, by_name=by_name)

    def _diagnostics(self, processes: list[ProcessSample], seconds: float) -> dict:
        diag = {}
        for i, name in enumerate(DIAG_NAMES):
            diag[name] = int(sum(self._diag[ct.c_int(i)]))
        lost = diag["stats_full"] + diag["procs_full"] + diag["storage_fail"]
        return {
            "lost": lost,
            **{k: diag[k] for k in ("stats_full", "procs_full", "storage_fail")},
            "thread_read_errors": self._thread_read_errors,
            "tracked_max": MAX_PROCS,
            "stats_max": MAX_STATS,
            "kernel_procs": self._kernel_procs,  # entries in the maps now (reaped as they end)
            "kernel_stats": self._kernel_stats,
            "processes_seen": len(processes),
            "processes_live": sum(1 for p in processes if p.alive),
            "latency": self.latency,
            "sample_ms": round(seconds * 1000, 2),
        }


def _missing_capabilities() -> str | None:
    """None when this process may load tracing programs and task storage, else what it lacks."""
    try:
        with open("/proc/self/status") as f:
            cap = cap_eff(f.read())
    except OSError:
        cap = None
    if cap is None or cap & (1 << CAP_SYS_ADMIN):
        return None  # cannot tell (let the kernel decide), or allowed everything
    return "+".join(lacking_bpf_capabilities(cap)) or None


def _task_state_type(latency: bool) -> type[ct.Structure]:
    fields = [("count", ct.c_uint64), ("errors", ct.c_uint64)]
    if latency:
        fields.append(("time_ns", ct.c_uint64))
    counts = type("Counts", (ct.Structure,), {"_fields_": fields})
    return type(
        "TaskState",
        (ct.Structure,),
        {
            "_fields_": [
                ("serial", ct.c_uint32),
                ("flags", ct.c_uint32),
                ("enter_ns", ct.c_uint64),
                ("nr", ct.c_uint32),
                ("dropped", ct.c_uint32),
                ("c", counts * NR_SLOTS),
            ]
        },
    )
