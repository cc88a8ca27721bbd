"""Cost of the screen: the real ``denet-tui run`` in a pseudo-terminal, watching 100 processes.

For each collector (eBPF, /proc) and each workload, starts ``denet-tui run`` in a 120×40 pty at
the default interval (1 s) and reports:

* first frame: seconds from starting ``denet-tui`` until the screen is first drawn (the layout
  with its header), and until the first figures are on it (``● running``);
* CPU %: the denet-tui process's own CPU time (user + system, all threads) per wall second over
  SECONDS, after a warm-up, and the share of it used by the main (UI) thread — the rest is the
  collector (for /proc, mostly its 100 Hz syscall sampler).

Workloads: ``idle`` is 100 sleeping processes; ``churn`` is 100 shells that each start a
``sleep 1`` every second (about 200 processes alive, 100 new and 100 gone each second).

Usage: ``bench_tui.py [ebpf|procfs]... [idle|churn]...`` (default: all of them).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

DENET = Path(sys.executable).with_name("denet-tui")
SECONDS = 20
WARMUP = 3
WORKLOADS = {
    "idle": "for i in $(seq 99); do sleep 600 & done; wait",
    "churn": "for i in $(seq 100); do (while :; do sleep 1; done) & done; wait",
}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: str) -> float:
    with open(stat_path, "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Screen:
    """``denet-tui`` in a pseudo-terminal; its output is read and kept so we can look for text."""

    def __init__(self, argv: list[str], cols: int = 120, rows: int = 40) -> None:
        self.start = time.monotonic()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - child
            os.environ["TERM"] = "xterm-256color"
            os.execv(argv[0], argv)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.seen = bytearray()

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    return
                self.seen += chunk
                del self.seen[:-200_000]  # keep the tail: enough to find recent text

    def wait_for(self, text: bytes, timeout: float = 30.0) -> float:
        """Seconds since start when ``text`` first appeared in the output."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not drawn within {timeout} s")
            self.pump(0.005)
        return time.monotonic() - self.start

    def quit(self) -> None:
        os.write(self.fd, b"q")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            self.pump(0.05)
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def measure(collector: str, workload: str) -> dict[str, float]:
    screen = Screen(
        [str(DENET), "run", "--collector", collector, "--", "sh", "-c", WORKLOADS[workload]]
    )
    try:
        drawn = screen.wait_for(b"processes")  # a pane title: the layout is on screen
        data = screen.wait_for("● running".encode())
        screen.pump(WARMUP)
        stat = f"/proc/{screen.pid}/stat"
        main = f"/proc/{screen.pid}/task/{screen.pid}/stat"
        cpu0, ui0, t0 = cpu_seconds(stat), cpu_seconds(main), time.monotonic()
        screen.pump(SECONDS)
        cpu, ui, wall = cpu_seconds(stat) - cpu0, cpu_seconds(main) - ui0, time.monotonic() - t0
        procs = len(descendants(screen.pid))
        return {
            "drawn": drawn,
            "data": data,
            "cpu": cpu / wall * 100,
            "ui": ui / wall * 100,
            "procs": procs,
        }
    finally:
        screen.quit()


def descendants(root: int) -> set[int]:
    """The processes below ``root`` right now (the watched tree, without denet-tui itself)."""
    parent: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    data = f.read()
            except OSError:
                continue
            parent[int(entry.name)] = int(data[data.rindex(b")") + 2 :].split()[1])
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parent.items() if p == pid and c not in found]
        found.update(kids)
        todo.extend(kids)
    return found


def main() -> int:
    print(f"denet-tui screen cost: 120x40 pty, interval 1 s, CPU over {SECONDS} s after {WARMUP} s")
    print(
        f"{'collector':>9}  {'workload':>8}  {'procs':>5}  {'drawn s':>7}  {'figures s':>9}  "
        f"{'CPU %':>6}  {'UI thread %':>11}"
    )
    collectors = [a for a in sys.argv[1:] if a in ("ebpf", "procfs")] or ["ebpf", "procfs"]
    workloads = [a for a in sys.argv[1:] if a in WORKLOADS] or list(WORKLOADS)
    for collector in collectors:
        for workload in workloads:
            r = measure(collector, workload)
            print(
                f"{collector:>9}  {workload:>8}  {r['procs']:>5.0f}  {r['drawn']:>7.2f}  "
                f"{r['data']:>9.2f}  {r['cpu']:>6.2f}  {r['ui']:>11.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
