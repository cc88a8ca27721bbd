"""Cost of the /proc collector: its own CPU time per wall second, at 100 Hz syscall sampling.

Trees of 1, 10 and 100 sleeping processes; the collector samples once a second (the default
interval) for SECONDS. Prints the sampler thread's CPU % (of one core), the whole collector's
CPU % (sampler + per-interval /proc reads), and the sample rate it actually achieved.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from denet_tui.collectors.procfs import ProcfsCollector
from denet_tui.target import AttachTarget

SECONDS = 6
SIZES = (1, 10, 100)


def measure(n: int) -> tuple[float, float, float]:
    # sh + (n-2) background sleeps + one foreground sleep = n processes.
    script = f"for i in $(seq {n - 2}); do sleep 600 & done; sleep 600"
    tree = subprocess.Popen(["sleep", "600"] if n == 1 else ["sh", "-c", script])
    time.sleep(0.5 + n / 100)
    c = ProcfsCollector(sample_hz=100.0)
    try:
        c.start(AttachTarget(tree.pid))
        cpu0, t0 = time.process_time(), time.monotonic()
        procs = 0
        for _ in range(SECONDS):
            time.sleep(1.0)
            snap = c.sample()
            procs = sum(p.alive for p in snap.processes)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
        diag = snap.diagnostics
        assert procs == n, f"expected {n} processes, saw {procs}"
        return diag["sampler_cpu_percent"], cpu / wall * 100, diag["sample_hz"]
    finally:
        c.close()
        subprocess.run(["pkill", "-P", str(tree.pid)], check=False)
        tree.kill()
        tree.wait()


def main() -> int:
    print(f"/proc collector cost, 100 Hz sampler, {SECONDS} s per tree, median of 3")
    print(f"{'processes':>9}  {'sampler CPU %':>13}  {'collector CPU %':>15}  {'achieved Hz':>11}")
    for n in SIZES:
        runs = [measure(n) for _ in range(3)]
        s, c, hz = (statistics.median(r[i] for r in runs) for i in range(3))
        print(f"{n:>9}  {s:>13.2f}  {c:>15.2f}  {hz:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
