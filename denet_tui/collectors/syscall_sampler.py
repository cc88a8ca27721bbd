"""Estimate where a tree spends its syscall time by sampling /proc/PID/task/TID/syscall.

Each tick reads every thread's current syscall: a thread blocked in syscall N counts one hit for
N. Hits are *samples*, not calls: they give each syscall's share of the time threads spent
blocked in syscalls, and are reported only as shares. The sampler measures its own CPU time and
lowers its rate rather than exceed its budget.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass

TID_REFRESH_S = 0.1  # how often the thread list of each process is re-read
RUNNING = -2  # on a CPU, not in a syscall
BLOCKED_OTHER = -1  # sleeping outside a syscall (the kernel's own "-1")
DENIED = -3  # no permission to read this thread (not ours, not root)


@dataclass(frozen=True, slots=True)
class SamplerStats:
    requested_hz: float
    effective_hz: float  # ticks actually taken per second so far
    cpu_percent: float  # the sampler thread's own CPU time per wall second, ×100
    ticks: int
    running: int  # thread samples on CPU (not in a syscall)
    in_syscall: int
    blocked_other: int  # sleeping outside a syscall (e.g. page fault)
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
            "thread_samples_denied": self.denied,
        }


def read_current_syscall(path: str) -> int | None:
    """Syscall number a thread is blocked in, RUNNING, BLOCKED_OTHER, DENIED, or None if gone."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except PermissionError:
        return DENIED
    except OSError:
        return None
    try:
        data = os.read(fd, 64)
    except PermissionError:
        return DENIED
    except OSError:
        return None
    finally:
        os.close(fd)
    head = data.split(b" ", 1)[0].strip()
    if head == b"running":
        return RUNNING
    try:
        return int(head)
    except ValueError:
        return None


class SyscallSampler:
    def __init__(self, rate_hz: float = 100.0, cpu_budget: float = 0.05) -> None:
        if rate_hz <= 0:
            raise ValueError("sample rate must be positive")
        self.rate_hz = rate_hz
        self.cpu_budget = cpu_budget  # fraction of one core
        self._pids: tuple[int, ...] = ()
        self._lock = threading.Lock()
        self._hits: dict[int, Counter[int]] = {}
        self._states = Counter[str]()
        self._ticks = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._cpu0 = 0.0
        self._cpu_used = 0.0

    def set_pids(self, pids: list[int]) -> None:
        self._pids = tuple(pids)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="denet-syscall-sampler", daemon=True)
        self._t0 = time.monotonic()
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
                denied=self._states["denied"],
            )

    def _run(self) -> None:
        period = 1.0 / self.rate_hz
        cpu_start = time.thread_time()
        tids: dict[int, list[str]] = {}
        tids_at = 0.0
        next_tick = time.monotonic()
        while not self._stop.is_set():
            tick_cpu = time.thread_time()
            now = time.monotonic()
            if now - tids_at >= TID_REFRESH_S:
                tids = _thread_paths(self._pids)
                tids_at = now
            tick_hits: list[tuple[int, int]] = []
            states = Counter[str]()
            for pid, paths in tids.items():
                for path in paths:
                    nr = read_current_syscall(path)
                    if nr is None:
                        continue
                    if nr == RUNNING:
                        states["running"] += 1
                    elif nr == BLOCKED_OTHER:
                        states["other"] += 1
                    elif nr == DENIED:
                        states["denied"] += 1
                    else:
                        states["syscall"] += 1
                        tick_hits.append((pid, nr))
            with self._lock:
                for pid, nr in tick_hits:
                    self._hits.setdefault(pid, Counter())[nr] += 1
                self._states.update(states)
                self._ticks += 1
                self._cpu_used = time.thread_time() - cpu_start
            cost = time.thread_time() - tick_cpu
            # Stay within budget: a tick that cost `cost` may happen at most every cost/budget s.
            next_tick += max(period, cost / self.cpu_budget)
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
                delay = 0
            self._stop.wait(delay)


def _thread_paths(pids: tuple[int, ...]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for pid in pids:
        try:
            out[pid] = [
                f"/proc/{pid}/task/{tid}/syscall" for tid in os.listdir(f"/proc/{pid}/task")
            ]
        except OSError:
            continue
    return out
