"""``--prometheus``: a real Prometheus server scrapes a watched run and holds the same figures as
the run's last JSON snapshot; the scrape passes ``promtool check metrics``; a tree of 5,000
short-lived processes under 100 names stays within the documented number of series.
``--otlp``: a receiver of our own gets the same figures pushed."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import ClassVar

import pytest

from denet_tui.metrics import DECLARED, lost_counts, series_bound

pytestmark = pytest.mark.ebpf
DASHBOARD = Path(__file__).resolve().parents[2] / "contrib" / "grafana-dashboard.json"


def dashboard_queries() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dash["panels"] for t in p["targets"]]


def test_the_dashboard_uses_only_exported_names() -> None:
    names = {d.name for d in DECLARED}
    used = {m for q in dashboard_queries() for m in re.findall(r"\bdenet_[a-z_]+", q)}
    assert used and used <= names, used - names


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("DENET_TUI_REQUIRE_EBPF"):
            pytest.fail(f"{name} is not installed (scripts/setup.sh installs Debian's prometheus)")
        pytest.skip(f"{name} is not installed")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def _query(port: int, query: str) -> list[dict]:
    """An instant query's result (an error status fails)."""
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    answer = json.loads(_get(url))
    assert answer["status"] == "success", (query, answer)
    return answer["data"]["result"]


def _watch(
    tmp_path: Path, workload: str, port: int, linger: float, probes: str = "all"
) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "run.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "denet_tui", "run", "--json", "--out", str(out), "--prometheus",
         f"127.0.0.1:{port}", "--linger", str(linger), "--probes", probes, "--",
         sys.executable, "-c", workload],
        stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return proc, out


def _ended(out: Path, proc: subprocess.Popen, timeout: float = 90) -> list[dict]:
    """The run's JSON lines once its end record is written (the endpoint then lingers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        if out.exists():
            lines = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
            if lines and lines[-1].get("kind") == "end":
                return lines
        time.sleep(0.1)
    raise AssertionError("the run did not end")


# 300 opens of /dev/null (and the interpreter's own), and a little CPU.
OPENS = r"""
import os
for _ in range(300):
    os.close(os.open("/dev/null", os.O_RDONLY))
sum(i * i for i in range(300_000))
"""


def test_prometheus_scrapes_the_same_figures_as_the_json(tmp_path: Path) -> None:
    prometheus, promtool = _tool("prometheus"), _tool("promtool")
    port, prom_port = _free_port(), _free_port()
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: denet\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    server = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    run, out = _watch(tmp_path, OPENS, port, linger=15)
    try:
        lines = _ended(out, run)
        scrape = _get(f"http://127.0.0.1:{port}/metrics")
        check = subprocess.run([promtool, "check", "metrics"], input=scrape, text=True,
                               capture_output=True)  # fmt: skip
        assert (check.returncode, check.stdout + check.stderr) == (0, "")
        last = [x for x in lines if x.get("kind") == "snapshot"][-1]
        opens = last["syscalls"]["by_name"]["openat"]["count"]
        want = {
            'denet_syscall_calls_total{syscall="openat"}': opens,
            "denet_tree_cpu_time_seconds_total": last["totals"]["cpu_time_s"],
        }
        assert want['denet_syscall_calls_total{syscall="openat"}'] >= 300
        got: dict[str, float] = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and got != pytest.approx(want):
            time.sleep(0.5)
            for query in want:
                try:
                    result = _query(prom_port, query)
                except OSError:
                    continue  # the server still starting
                if result:
                    got[query] = float(result[0]["value"][1])
        assert got == pytest.approx(want, rel=1e-9)
        # Every query of the shipped Grafana dashboard is one this Prometheus accepts, with data
        # (a rate needs two scrapes of the final figures at least).
        while float(_query(prom_port, "count_over_time(denet_info[1m])")[0]["value"][1]) < 3:
            time.sleep(0.5)
        for query in dashboard_queries():
            query = query.replace("$group", ".*").replace("$__rate_interval", "1m")
            assert _query(prom_port, query), query
    finally:
        run.terminate()
        run.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)


# 5,000 processes, each named one of 100 names (prctl PR_SET_NAME) before it ends.
STORM = r"""
import ctypes, os
libc = ctypes.CDLL(None)
for i in range(5000):
    if os.fork() == 0:
        libc.prctl(15, f"job{i % 100}".encode(), 0, 0, 0)
        os._exit(0)
    os.wait()
"""


def test_a_storm_of_short_processes_stays_within_the_series_bound(tmp_path: Path) -> None:
    port = _free_port()
    run, out = _watch(tmp_path, STORM, port, linger=5, probes="syscalls")
    try:
        lines = _ended(out, run, timeout=120)
        scrape = _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        run.terminate()
        run.wait(timeout=30)
    series = [x for x in scrape.splitlines() if x and not x.startswith("#")]
    last = [x for x in lines if x.get("kind") == "snapshot"][-1]
    assert last["totals"]["processes_seen"] >= 5000
    s = last["syscalls"]
    bound = series_bound(20, len(s["by_name"]), len(s["by_category"]),
                         len(lost_counts(last["diagnostics"])))  # fmt: skip
    assert len(series) <= bound
    commands = {x.split('command="')[1].split('"')[0] for x in series if 'command="' in x}
    assert len(commands) == 21  # 20 of their own, and other
    folded = [x for x in series if x.startswith("denet_process_commands_folded")]
    assert folded and float(folded[0].split()[-1]) >= 80
    # Every process's CPU time is in one series or another.
    cpu = sum(float(x.split()[-1]) for x in series if x.startswith("denet_process_cpu_time"))
    assert cpu == pytest.approx(last["totals"]["cpu_time_s"], rel=1e-6)


class _Receiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP metrics receiver of our own: keeps every request's last value per
    (metric, attributes)."""

    got: ClassVar[dict[tuple[str, tuple[tuple[str, str], ...]], float]] = {}
    requests: ClassVar[int] = 0

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = ExportMetricsServiceRequest()
        req.ParseFromString(body)
        for rm in req.resource_metrics:
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    points = m.sum.data_points if m.HasField("sum") else m.gauge.data_points
                    for p in points:
                        attrs = tuple(sorted((a.key, a.value.string_value) for a in p.attributes))
                        value = p.as_double if p.HasField("as_double") else p.as_int
                        type(self).got[m.name, attrs] = value
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_otlp_pushes_the_same_figures_as_the_json(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "run.jsonl"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "denet_tui", "run", "--json", "--out", str(out), "--otlp",
             f"http://127.0.0.1:{server.server_port}", "--probes", "syscalls", "--",
             sys.executable, "-c", OPENS],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=90,
            env={**os.environ, "OTEL_METRIC_EXPORT_INTERVAL": "500"},
        )  # fmt: skip
    finally:
        server.shutdown()
    assert (done.returncode, done.stderr) == (0, "")
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    last = [x for x in lines if x.get("kind") == "snapshot"][-1]
    group = ("group", os.path.basename(sys.executable))
    got = _Receiver.got
    assert _Receiver.requests >= 1  # (the last push, at the end, with the final figures)
    assert (
        got["denet_syscall_calls", tuple(sorted([group, ("syscall", "openat")]))]
        == (last["syscalls"]["by_name"]["openat"]["count"])
    )
    assert got["denet_tree_cpu_time_seconds", (group,)] == pytest.approx(
        last["totals"]["cpu_time_s"], rel=1e-9
    )
