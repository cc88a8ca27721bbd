"""Long runs: the app's own cost over time, on a tree that never stops starting processes.

For each workload, collector (eBPF, /proc) and front end (the screen in a 120×40 pty with
``--record``, or ``--json --out``), runs ``denet-tui run`` at the default interval (1 s) and
reports per minute: the app's CPU % of one core (user + system, all threads), its RSS, bytes
written per snapshot, and the achieved interval between snapshots. The baseline is the run's
own second minute (the first holds the start-up): the summary gives the last minute's CPU and
bytes per snapshot as ratios of the second's, and RSS growth between them.

Workloads:
  churn     40 loops each starting `sleep 0.2` and waiting for it: about 200 new processes a
            second, 80 alive at any time (the long-runs issue's workload)
  sleepers  1,000 sleeping processes

Usage: bench_long_run.py [--quick] [churn|sleepers]... [ebpf|procfs]... [screen|json]...
  default: 10 minutes of churn and 3 of sleepers; --quick: 2 minutes each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_tui import DENET, Screen, cpu_seconds  # noqa: E402

WORKLOADS = {
    "churn": "for j in $(seq 40); do (while :; do sleep 0.2 & wait; done) & done; wait",
    "sleepers": "for j in $(seq 1000); do sleep 100000 & done; wait",
}
T_FIELD = re.compile(rb'^\{"kind":"snapshot","t":([0-9.e+-]+)', re.M)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Run:
    """One denet-tui run writing JSON lines to ``path`` (the stream, or the recording)."""

    def __init__(self, collector: str, front: str, workload: str, path: str) -> None:
        argv = [str(DENET), "run", "--collector", collector]
        cmd = ["--", "sh", "-c", WORKLOADS[workload]]
        self.screen: Screen | None = None
        if front == "screen":
            self.screen = Screen([*argv, "--record", path, *cmd])
            self.pid = self.screen.pid
        else:
            self.proc = subprocess.Popen(
                [*argv, "--json", "--out", path, *cmd], stdin=subprocess.DEVNULL
            )
            self.pid = self.proc.pid
        self.path = path
        self.offset = 0

    def wait(self, seconds: float) -> None:
        if self.screen is not None:
            self.screen.pump(seconds)  # keep reading the terminal, as a user's would be
        else:
            time.sleep(seconds)

    def new_snapshots(self) -> tuple[int, list[float]]:
        """Bytes and the snapshot times written since the last call."""
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        cut = data.rfind(b"\n") + 1  # whole lines only
        data = data[:cut]
        self.offset += cut
        return len(data), [float(m) for m in T_FIELD.findall(data)]

    def stop(self) -> None:
        if self.screen is not None:
            self.screen.quit()
        else:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def measure(workload: str, collector: str, front: str, minutes: int, minute: float) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(collector, front, workload, os.path.join(tmp, "run.jsonl"))
        rows = []
        try:
            run.wait(3)  # armed, the first snapshots out
            run.new_snapshots()
            stat = f"/proc/{run.pid}/stat"
            for m in range(minutes):
                cpu0, t0 = cpu_seconds(stat), time.monotonic()
                run.wait(minute)
                cpu, wall = cpu_seconds(stat) - cpu0, time.monotonic() - t0
                size, times = run.new_snapshots()
                gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
                rows.append(
                    {
                        "minute": m + 1,
                        "cpu": cpu / wall * 100,
                        "rss": rss_mb(run.pid),
                        "per_snapshot": size / max(1, len(times)),
                        "interval": sum(gaps) / len(gaps) if gaps else float("nan"),
                        "worst": max(gaps) if gaps else float("nan"),
                    }
                )
                r = rows[-1]
                print(
                    f"{workload:>8}  {collector:>6}  {front:>6}  {r['minute']:>3}  "
                    f"{r['cpu']:>6.2f}  {r['rss']:>7.1f}  {r['per_snapshot'] / 1024:>9.1f}  "
                    f"{r['interval']:>8.3f}  {r['worst']:>6.3f}",
                    flush=True,
                )
        finally:
            run.stop()
            subprocess.run(["pkill", "-f", "sleep 100000"], check=False)
        return rows


def ratio(a: float, b: float) -> str:
    return f"{a / b:4.2f}×" if b else " n/a"  # nothing measured (the run failed: see above)


def summary(workload: str, collector: str, front: str, rows: list[dict]) -> str:
    # The second minute is the baseline; with only two (--quick), the first.
    base, last = rows[1] if len(rows) > 2 else rows[0], rows[-1]
    mean = sum(r["cpu"] for r in rows[1:] or rows) / len(rows[1:] or rows)
    worst = max(abs(r["interval"] - 1.0) for r in rows)
    return (
        f"{workload:>8}  {collector:>6}  {front:>6}  CPU {mean:5.2f} % (last/2nd "
        f"{ratio(last['cpu'], base['cpu'])})  RSS +{last['rss'] - base['rss']:5.1f} MB  "
        f"bytes/snapshot last/2nd {ratio(last['per_snapshot'], base['per_snapshot'])}  "
        f"interval off by ≤ {worst * 100:4.1f} %"
    )


def main() -> int:
    args = sys.argv[1:]
    quick = "--quick" in args
    workloads = [a for a in args if a in WORKLOADS] or list(WORKLOADS)
    collectors = [a for a in args if a in ("ebpf", "procfs")] or ["ebpf", "procfs"]
    fronts = [a for a in args if a in ("screen", "json")] or ["screen", "json"]
    minute = float(os.environ.get("BENCH_MINUTE_S", 60))
    print(f"denet-tui long runs: interval 1 s, figures per {minute:g} s ('minute')")
    print(
        f"{'workload':>8}  {'coll.':>6}  {'front':>6}  {'min':>3}  {'CPU %':>6}  "
        f"{'RSS MB':>7}  {'KB/snap':>9}  {'interval':>8}  {'worst':>6}"
    )
    results = []
    for workload in workloads:
        minutes = 2 if quick else (10 if workload == "churn" else 3)
        for collector in collectors:
            for front in fronts:
                rows = measure(workload, collector, front, minutes, minute)
                results.append(summary(workload, collector, front, rows))
    print("\nsummary (baseline: the second minute; with --quick, the first)")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
