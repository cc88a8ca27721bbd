"""``--prometheus [HOST:]PORT``: the run's metrics (:mod:`denet_tui.metrics`) served at
``/metrics`` in Prometheus's text format by the maintained client library.

The server starts when the sink is made (a port in use fails before the command runs) and runs
in its own thread; each snapshot updates the per-command totals (work in proportion to the
snapshot), and the metrics are built only when scraped. After the run ends the last figures
stay served until the process leaves (the screen's quit, or ``--linger`` when headless).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from denet_tui.metrics import DEFAULT_TOP
from denet_tui.output_paths import EXIT_USAGE
from denet_tui.sinks.metrics_base import MetricsSink
from denet_tui.target import TargetError

DEFAULT_HOST = "127.0.0.1"


def parse_address(text: str) -> tuple[str, int]:
    """``PORT`` or ``HOST:PORT`` (``[v6]:PORT``) -> (host, port); TargetError otherwise."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]") if sep else DEFAULT_HOST
    if not port.isdigit() or not 0 < int(port) < 65536 or (sep and not host):
        raise TargetError(f"--prometheus {text}: expected PORT or HOST:PORT", EXIT_USAGE)
    return host, int(port)


class _Collector:
    """prometheus_client's view of the sink: the metrics built at each scrape."""

    def __init__(self, sink: MetricsSink) -> None:
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


class PrometheusSink(MetricsSink):
    def __init__(self, address: str, name: str | None = None, top: int = DEFAULT_TOP) -> None:
        """Start serving ``/metrics`` on ``address`` (nothing until the first snapshot)."""
        from prometheus_client import CollectorRegistry, start_http_server

        super().__init__(name, top)
        host, port = parse_address(address)
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Collector(self))  # type: ignore[arg-type]
        try:
            self._server, self._thread = start_http_server(port, host, registry)
        except OSError as e:
            raise TargetError(
                f"--prometheus {address}: cannot listen there: {e.strerror or e}", EXIT_USAGE
            ) from None
        self.address = f"{host}:{self._server.server_port}"
        shown = f"[{host}]" if ":" in host else host
        self.where = f"metrics: http://{shown}:{self._server.server_port}/metrics"

    def stop(self) -> None:
        """Stop serving (the run's last figures were served until now)."""
        self._server.shutdown()
        self._server.server_close()
