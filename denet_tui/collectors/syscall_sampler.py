"""Estimate where a tree spends its syscall time by sampling /proc/PID/task/TID/syscall, and
how its threads' time off the CPU splits between asleep (S) and uninterruptible (D).

Each tick reads every thread's current syscall: a thread blocked in syscall N counts one hit for
N. Hits are *samples*, not calls: they give each syscall's share of the time threads spent
blocked in syscalls, and are reported only as shares. Each thread's state (``stat``) is read
too: the time since its last sample (or since it began) is added to the state it is in, asleep
or in D, an estimate of thread-seconds in each per process (a nap shorter than a tick may be
missed or counted whole). The sampler measures its own CPU time and
lowers its rate rather than exceed its budget: what the rest of the process (the screen, the
per-interval /proc reads) leaves of about 5% of one core.
"""

from __future__ import annotations

import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from denet_tui.collectors.proc_reader import CLK_TCK

TID_REFRESH_S = 0.1  # how often the tree's processes and their threads are listed again
MAX_OPEN = 4096  # thread files kept open at most
# Fractions of one core. The whole process (screen, /proc reads, this sampler) should stay within
# 5%: the sampler takes what the rest leaves of APP_BUDGET, between MIN_BUDGET and its own
# cpu_budget. APP_BUDGET aims a little under 5% because the rest is measured a window late.
APP_BUDGET = 0.045
CPU_BUDGET = 0.05
MIN_BUDGET = 0.005
BUDGET_WINDOW_S = 1.0  # how often the rest of the process's CPU use is re-measured
RUNNING = -2  # on a CPU, not in a syscall
BLOCKED_OTHER = -1  # sleeping outside a syscall (the kernel's own "-1")
DENIED = -3  # no permission to read this thread (not ours, not root)
MAX_TICK_S = 5.0  # a sample stands for at most this much time (after a stall, less is known)
ASLEEP, IN_D = 0, 1  # slots of the per-process state seconds
# /proc state letters off the CPU, as the sched family counts them: D is uninterruptible;
# asleep also holds idle (I), stopped (T) and traced (t), as sched_switch's prev_state does.
OFF_CPU = {"S": ASLEEP, "I": ASLEEP, "T": ASLEEP, "t": ASLEEP, "D": IN_D}


@dataclass(frozen=True, slots=True)
class SamplerStats:
    requested_hz: float
    effective_hz: float  # ticks actually taken per second so far
    cpu_percent: float  # the sampler thread's own CPU time per wall second, ×100
    ticks: int
    running: int  # thread samples on CPU (not in a syscall)
    in_syscall: int
    blocked_other: int  # sleeping outside a syscall (e.g. page fault)
    asleep: int  # thread samples not running, in S (or I, T, t)
    in_d: int  # thread samples in D
    denied: int  # thread reads refused: those threads are missing from the estimate

    def to_dict(self) -> dict[str, float | int]:
        return {
            "sample_hz_requested": self.requested_hz,
            "sample_hz": round(self.effective_hz, 1),
            "sampler_cpu_percent": round(self.cpu_percent, 2),
            "sample_ticks": self.ticks,
            "thread_samples_running": self.running,
            "thread_samples_in_syscall": self.in_syscall,
            "thread_samples_blocked_other": self.blocked_other,
            "thread_samples_asleep": self.asleep,
            "thread_samples_in_d": self.in_d,
            "thread_samples_denied": self.denied,
        }


def parse_current_syscall(data: bytes) -> int | None:
    """A thread's ``syscall`` file: syscall number, RUNNING, BLOCKED_OTHER, or None if odd."""
    head = data.split(b" ", 1)[0].strip()
    if head == b"running":
        return RUNNING
    try:
        return int(head)
    except ValueError:
        return None


class ThreadFiles:
    """Every watched thread's ``/proc/PID/task/TID/syscall``, kept open between ticks.

    Re-reading an open file with ``pread`` costs about a third of open+read+close (measured:
    0.19 ms against 0.64 ms for 100 threads), and the open file follows the thread itself, so a
    reused TID can never be read by mistake. Past ``max_open`` files, the rest are opened for
    each read.
    """

    def __init__(self, max_open: int | None = None) -> None:
        if max_open is None:
            soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
            max_open = max(0, min(MAX_OPEN, soft // 2))  # leave room for everything else
        self.max_open = max_open
        self._fds: dict[str, int] = {}

    def paths(self, pids: tuple[int, ...]) -> dict[int, list[str]]:
        """The watched threads now; files of threads no longer listed are closed."""
        out: dict[int, list[str]] = {}
        for pid in pids:
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            out[pid] = [f"/proc/{pid}/task/{tid}/syscall" for tid in tids]
        live = {path for paths in out.values() for path in paths}
        live |= {path[: -len("syscall")] + "stat" for path in live}  # ThreadFiles.state's
        for path in [p for p in self._fds if p not in live]:
            os.close(self._fds.pop(path))
        return out

    def read(self, path: str) -> int | None:
        """Syscall number a thread is blocked in, RUNNING, BLOCKED_OTHER, DENIED, or None if
        it is gone."""
        data = self._pread(path, 64)
        return data if data is None or isinstance(data, int) else parse_current_syscall(data)

    def state(self, syscall_path: str) -> tuple[str, float] | None:
        """The state letter (R, S, D, …) and start time (seconds since boot) of the thread
        whose ``syscall`` file that is, from its ``stat`` beside it (readable by anyone); None
        if it is gone."""
        data = self._pread(syscall_path[: -len("syscall")] + "stat", 1024)
        if data is None or isinstance(data, int):
            return None
        fields = data.rpartition(b")")[2].split()  # the name before it may hold anything
        try:
            return fields[0].decode(), int(fields[19]) / CLK_TCK
        except (IndexError, ValueError):
            return None

    def _pread(self, path: str, size: int) -> bytes | int | None:
        """The file's first ``size`` bytes, DENIED, or None if its thread is gone."""
        fd = self._fds.get(path)
        kept = fd is not None
        if fd is None:
            try:
                fd = os.open(path, os.O_RDONLY)
            except PermissionError:
                return DENIED
            except OSError:
                return None
            if len(self._fds) < self.max_open:
                self._fds[path], kept = fd, True
        try:
            return os.pread(fd, size, 0)
        except PermissionError:
            return DENIED  # checked at each read: the thread may have exec'd a setuid program
        except OSError:  # ESRCH: the thread has ended
            if kept:
                del self._fds[path]
            kept = False
            return None
        finally:
            if not kept:
                os.close(fd)

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


class SyscallSampler:
    def __init__(self, rate_hz: float = 100.0, cpu_budget: float = CPU_BUDGET) -> None:
        if rate_hz <= 0:
            raise ValueError("sample rate must be positive")
        self.rate_hz = rate_hz
        self.cpu_budget = cpu_budget  # fraction of one core
        self._scan: Callable[[], list[int]] = list
        self._lock = threading.Lock()
        self._hits: dict[int, Counter[int]] = {}
        self._off_cpu: dict[int, list[float]] = {}  # pid -> seconds [asleep, in D], estimated
        self._states = Counter[str]()
        self._ticks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._since = 0.0  # boot-clock seconds: when the sampling began (start)
        self._cpu0 = 0.0
        self._cpu_used = 0.0

    def follow(self, scan: Callable[[], list[int]]) -> None:
        """Sample the processes ``scan`` lists (called from the sampler's thread, every
        TID_REFRESH_S: a process living a few tenths of a second is seen, not just those alive
        at each snapshot)."""
        self._scan = scan

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="denet-syscall-sampler", daemon=True)
        self._t0 = time.monotonic()
        # What a thread did before we watched is not known (a run root waits at our start-up
        # gate meanwhile, an attached process has its history): its first sample stands for
        # the time since it began or since now, whichever is later.
        self._since = time.clock_gettime(time.CLOCK_BOOTTIME)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def hits(self) -> dict[int, dict[int, int]]:
        """Cumulative hits per pid, per syscall number."""
        with self._lock:
            return {pid: dict(c) for pid, c in self._hits.items()}

    def off_cpu(self) -> dict[int, tuple[float, float]]:
        """Estimated thread-seconds (asleep, in D) per pid, cumulative: every process a tick
        has read a thread of."""
        with self._lock:
            return {pid: (v[ASLEEP], v[IN_D]) for pid, v in self._off_cpu.items()}

    def forget(self, pids: list[int]) -> None:
        """These processes ended and were reported: their figures are no longer needed."""
        with self._lock:
            for pid in pids:
                self._hits.pop(pid, None)
                self._off_cpu.pop(pid, None)

    def stats(self) -> SamplerStats:
        with self._lock:
            elapsed = max(time.monotonic() - self._t0, 1e-9) if self._t0 else 0.0
            return SamplerStats(
                requested_hz=self.rate_hz,
                effective_hz=self._ticks / elapsed if elapsed else 0.0,
                cpu_percent=self._cpu_used / elapsed * 100 if elapsed else 0.0,
                ticks=self._ticks,
                running=self._states["running"],
                in_syscall=self._states["syscall"],
                blocked_other=self._states["other"],
                asleep=self._states["asleep"],
                in_d=self._states["d"],
                denied=self._states["denied"],
            )

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        cpu_start = time.thread_time()
        files = ThreadFiles()
        paths: dict[int, list[str]] = {}
        paths_at = 0.0
        budget = self.cpu_budget
        window = (time.monotonic(), time.process_time(), cpu_start)  # wall, process, sampler
        next_tick = time.monotonic()
        seen_at: dict[str, float] = {}  # thread (its syscall file) -> when last sampled
        cycle_cpu = cpu_start
        try:
            while not self._stop.is_set():
                if (now := time.monotonic()) - paths_at >= TID_REFRESH_S:
                    paths, paths_at = files.paths(tuple(self._scan())), now
                    listed = {path for thread_paths in paths.values() for path in thread_paths}
                    seen_at = {k: v for k, v in seen_at.items() if k in listed}
                self._tick(files, paths, cpu_start, seen_at)
                if now - window[0] >= BUDGET_WINDOW_S:
                    budget, window = self._budget(window, now, cycle_cpu)
                # A whole cycle's cost (the tick, and waking from the last wait) may come at most
                # every cost/budget seconds.
                cost = (cpu := time.thread_time()) - cycle_cpu
                cycle_cpu = cpu
                next_tick += max(period, cost / budget)
                delay = next_tick - time.monotonic()
                if delay < 0:
                    next_tick = time.monotonic()
                    delay = 0
                self._stop.wait(delay)
        finally:
            files.close()

    def _budget(
        self, window: tuple[float, float, float], now: float, sampler_cpu: float
    ) -> tuple[float, tuple[float, float, float]]:
        """The sampler's budget for the next window: what the rest of the process left of
        APP_BUDGET in the last one, within [MIN_BUDGET, cpu_budget]."""
        wall0, process0, sampler0 = window
        process_cpu = time.process_time()
        rest = (process_cpu - process0 - (sampler_cpu - sampler0)) / (now - wall0)
        budget = min(self.cpu_budget, max(MIN_BUDGET, APP_BUDGET - rest))
        return budget, (now, process_cpu, sampler_cpu)

    def _tick(
        self,
        files: ThreadFiles,
        paths: dict[int, list[str]],
        cpu_start: float,
        seen_at: dict[str, float],
    ) -> None:
        """Read every thread's state once, and the syscall of those off the CPU, and add what
        was seen. Each thread's sample stands for the time since its last one (``seen_at``), or
        since it began. The state first: a thread in D for a few µs at a time is often running
        again by a second read."""
        hits: list[tuple[int, int]] = []
        off: list[tuple[int, int, float]] = []
        boot_now = time.clock_gettime(time.CLOCK_BOOTTIME)
        sampled: set[int] = set()
        states = Counter[str]()
        for pid, thread_paths in paths.items():
            for path in thread_paths:
                got = files.state(path)
                if got is None or got[0] in "ZX":
                    continue  # gone, or on its way out
                state, started = got
                # Boot-clock seconds this sample stands for.
                stands = min(boot_now - seen_at.get(path, max(started, self._since)), MAX_TICK_S)
                seen_at[path] = boot_now
                sampled.add(pid)
                slot = OFF_CPU.get(state)
                if slot is None:  # R: on a CPU or waiting for one (schedstat has those)
                    states["running"] += 1
                    continue
                states["d" if slot == IN_D else "asleep"] += 1
                off.append((pid, slot, max(0.0, stands)))
                nr = files.read(path)
                if nr is None or nr == RUNNING:
                    continue  # it ran (or ended) between the two reads
                if nr == DENIED:
                    states["denied"] += 1
                elif nr == BLOCKED_OTHER:
                    states["other"] += 1
                else:
                    states["syscall"] += 1
                    hits.append((pid, nr))
        with self._lock:
            for pid, nr in hits:
                self._hits.setdefault(pid, Counter())[nr] += 1
            for pid in sampled:  # listed once sampled, even if never seen off the CPU
                self._off_cpu.setdefault(pid, [0.0, 0.0])
            for pid, slot, seconds in off:
                self._off_cpu[pid][slot] += seconds
            self._states.update(states)
            self._ticks += 1
            self._cpu_used = time.thread_time() - cpu_start
