"""What the metric outputs (``--prometheus``, ``--otlp``) cost the app, in % of one core.

1. **The work itself**, exactly: a real run of each workload is recorded (``--json``, 1 s
   interval, eBPF where possible), then its snapshots are fed to a Prometheus sink as the run
   loop would, with one scrape of ``/metrics`` (the text a Prometheus server gets) after each;
   the CPU time of that, per snapshot, is the cost per second at the default interval with a
   scrape every second (the worst case), and with one every 15 s (a common scrape interval).
2. **End to end**, for scale: the app's own CPU (user + system, all threads) over 20 s after a
   3 s warm-up, ``--json`` alone against ``--json --prometheus`` scraped every second by this
   benchmark, in turns, ``--reps`` times (the machine is noisy: medians, and the same run's
   baseline).

Workloads: ``churn`` (40 loops starting ``sleep 0.2``: ~200 new processes a second, 80 alive)
and ``sleepers`` (500 sleeping processes).

    sudo .venv/bin/python benchmarks/bench_metrics.py [--reps 3] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_tui import DENET, cpu_seconds  # noqa: E402
from prometheus_client import CollectorRegistry, generate_latest  # noqa: E402

from denet_tui.collectors.replay import ReplayCollector  # noqa: E402
from denet_tui.sinks.metrics_base import MetricsSink  # noqa: E402
from denet_tui.sinks.prometheus import _Collector  # noqa: E402

WORKLOADS = {
    "churn": "for j in $(seq 40); do (while :; do sleep 0.2 & wait; done) & done; wait",
    "sleepers": "for j in $(seq 500); do sleep 100000 & done; wait",
}
WARMUP = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def watch(workload: str, seconds: float, out: str, prometheus: int | None) -> float:
    """Run denet-tui on ``workload`` for WARMUP + ``seconds``; its CPU % of a core after the
    warm-up (scraping /metrics every second when serving)."""
    extra = ["--prometheus", f"127.0.0.1:{prometheus}"] if prometheus else []
    proc = subprocess.Popen(
        [str(DENET), "run", "--json", "--out", out, *extra, "--duration", str(WARMUP + seconds + 5),
         "--", "sh", "-c", WORKLOADS[workload]],
        stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    stat = f"/proc/{proc.pid}/stat"
    try:
        time.sleep(WARMUP + 2)  # (the BPF program's compile is not the steady state)
        cpu0, t0 = cpu_seconds(stat), time.monotonic()
        while time.monotonic() - t0 < seconds:
            time.sleep(1)
            if prometheus:
                with urllib.request.urlopen(f"http://127.0.0.1:{prometheus}/metrics") as r:
                    r.read()
        return (cpu_seconds(stat) - cpu0) / (time.monotonic() - t0) * 100
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        subprocess.run(["pkill", "-f", "sleep 100000"], check=False)


def work_per_snapshot(recording: str) -> tuple[float, float, int, int]:
    """CPU seconds the sink's update, and one scrape, take per snapshot of ``recording``; the
    snapshots' processes (mean) and the scrape's size (last)."""
    replay = ReplayCollector(recording)
    snaps = [replay.sample()]
    while not replay.finished:
        snaps.append(replay.sample())
    sink = MetricsSink()
    sink.begin(replay.meta)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(sink))  # type: ignore[arg-type]
    size, update, scrape = 0, 0.0, 0.0
    for snap in snaps:
        t0 = time.process_time()
        sink.write(snap)
        t1 = time.process_time()
        size = len(generate_latest(registry))
        update, scrape = update + t1 - t0, scrape + time.process_time() - t1
    procs = sum(len(s.processes) for s in snaps) / len(snaps)
    return update / len(snaps), scrape / len(snaps), round(procs), size


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    args = p.parse_args()
    print(f"# load average {os.getloadavg()[0]:.2f}", flush=True)
    print(f"{'workload':>9}  {'procs/snap':>10}  {'scrape KB':>9}  {'update ms':>9}  "
          f"{'scrape ms':>9}  {'% core, scrape 1 s':>18}  {'15 s':>5}  {'app json %':>10}  "
          f"{'+prometheus %':>13}  {'diff':>6}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workloads:
            base, served = [], []
            for _ in range(args.reps):
                rec = os.path.join(tmp, f"{w}.jsonl")
                base.append(watch(w, args.seconds, rec, None))
                served.append(watch(w, args.seconds, os.path.join(tmp, "x.jsonl"), free_port()))
            update, scrape, procs, size = work_per_snapshot(rec)
            b, s = statistics.median(base), statistics.median(served)
            print(
                f"{w:>9}  {procs:>10}  {size / 1024:>9.1f}  {update * 1000:>9.2f}  "
                f"{scrape * 1000:>9.2f}  {(update + scrape) * 100:>18.2f}  "
                f"{(update + scrape / 15) * 100:>5.2f}  {b:>10.2f}  {s:>13.2f}  {s - b:>+6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
