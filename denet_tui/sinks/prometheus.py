"""``--prometheus [HOST:]PORT``: the run's metrics (:mod:`denet_tui.metrics`) served at
``/metrics`` in Prometheus's text format by the maintained client library.

The server starts when the sink is made (a port in use fails before the command runs) and runs
in its own thread; each snapshot updates the per-command totals (work in proportion to the
snapshot), and the metrics are built only when scraped. After the run ends the last figures
stay served until the process leaves (the screen's quit, or ``--linger`` when headless).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

from denet_tui.metrics import DEFAULT_TOP, CommandTotals, Run, build
from denet_tui.model import EMPTY_FINISHED, FinishedSummary, Meta, Snapshot
from denet_tui.output_paths import EXIT_USAGE
from denet_tui.target import TargetError
from denet_tui.visible import visible

DEFAULT_HOST = "127.0.0.1"


def parse_address(text: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` (``[v6]:PORT``) -> (host, port); TargetError otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if sep else DEFAULT_HOST
    if not port.isdigit() or not 0 < int(port) < 65536 or (sep and not host):
        raise TargetError(f"--prometheus {text}: expected PORT or HOST:PORT", EXIT_USAGE)
    return host, int(port)


def group_of(meta: Meta) -> str:
    """The watched job's name: the root command's (its program's file name)."""
    cmd = meta.target.cmd or ()
    return os.path.basename(cmd[0]) if cmd else f"pid {meta.target.pid}"


class _Collector:
    """prometheus_client's view of the sink: the metrics built at each scrape."""

    def __init__(self, sink: PrometheusSink) -> None:
        self._sink = sink

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        for m in self._sink.metrics():
            labels = list(m.samples[0][0]) if m.samples else ["group"]
            kind = CounterMetricFamily if m.kind == "counter" else GaugeMetricFamily
            family = kind(m.name, m.doc, labels=labels)
            for sample_labels, value in m.samples:
                family.add_metric([sample_labels[k] for k in labels], value)
            yield family


class PrometheusSink:
    def __init__(self, address: str, name: str | None = None, top: int = DEFAULT_TOP) -> None:
        """Start serving ``/metrics`` on ``address`` (nothing until the first snapshot)."""
        from prometheus_client import CollectorRegistry, start_http_server

        host, port = parse_address(address)
        self._name = name
        self._group = name or ""
        self._commands = CommandTotals(top)
        self._run: Run | None = None
        self._info: dict[str, str] = {}
        self._lock = threading.Lock()  # the scrape thread reads what write() changes
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))  # type: ignore[arg-type]
        try:
            self._server, self._thread = start_http_server(port, host, registry)
        except OSError as e:
            raise TargetError(
                f"--prometheus {address}: cannot listen there: {e.strerror or e}", EXIT_USAGE
            ) from None
        self.address = f"{host}:{self._server.server_port}"

    def begin(self, meta: Meta) -> None:
        with self._lock:
            self._group = self._name or visible(group_of(meta))
            self._info = {
                "collector": meta.collector.name,
                "target": meta.target.mode,
                "tool_version": meta.tool_version,
            }

    def write(self, snap: Snapshot) -> None:
        with self._lock:
            self._commands.update(snap.processes)
            self._run = Run(snap, self._commands, self._info)

    def metrics(self) -> list[Any]:
        with self._lock:
            return [] if self._run is None else build(self._run, self._group)

    def close(
        self, last: Snapshot | None, ended_by: str, finished: FinishedSummary = EMPTY_FINISHED
    ) -> None:
        """The run is over: its last figures stay served (see :meth:`stop`)."""
        if last is not None:
            self.write(last)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
