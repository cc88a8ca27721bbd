"""``--otlp ENDPOINT``: the run's metrics (:mod:`denet_tui.metrics`) pushed with the OpenTelemetry
SDK's OTLP exporter (HTTP/protobuf), every ``OTEL_METRIC_EXPORT_INTERVAL`` ms (the SDK's
default: 60 s) and once more with the final figures when the session closes. The standard
``OTEL_*`` variables apply (headers, timeout, compression, interval, resource attributes).

Each metric is an observable instrument read from the latest snapshot at each push, under the
same name as on the Prometheus endpoint (a counter's ``_total`` left to the backend, as
OpenTelemetry's Prometheus mapping adds it), with the same attributes. The SDK's own logging is
silenced (it would write over the screen); failed pushes are counted and said in one line at
the end.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from denet_tui.metrics import DECLARED, DEFAULT_TOP, Declared
from denet_tui.model import EMPTY_FINISHED, FinishedSummary, ProcessSample, Snapshot
from denet_tui.output_paths import EXIT_USAGE
from denet_tui.sinks.metrics_base import MetricsSink
from denet_tui.target import TargetError
from denet_tui.visible import tell


def metrics_url(endpoint: str) -> str:
    """``http://host:4318`` -> ``http://host:4318/v1/metrics`` (a URL with a path: as given)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TargetError(
            f"--otlp {endpoint}: expected an http:// or https:// URL (OTLP over HTTP)", EXIT_USAGE
        )
    return endpoint if parts.path not in ("", "/") else endpoint.rstrip("/") + "/v1/metrics"


class OtlpSink(MetricsSink):
    def __init__(self, endpoint: str, name: str | None = None, top: int = DEFAULT_TOP) -> None:
        super().__init__(name, top)
        url = metrics_url(endpoint)
        self.where = f"metrics pushed to {url}"
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.metrics.export import (
                MetricExportResult,
                PeriodicExportingMetricReader,
            )
            from opentelemetry.sdk.resources import Resource
        except ImportError as e:
            raise TargetError(
                f"--otlp: the OpenTelemetry SDK is missing ({e})", EXIT_USAGE
            ) from None
        logging.getLogger("opentelemetry").setLevel(logging.CRITICAL + 1)
        self.pushes = self.failures = 0
        self.last_failure = ""
        exporter = OTLPMetricExporter(endpoint=url)
        original = exporter.export
        pid = os.getpid()

        def export(data: Any, *args: Any, **kwargs: Any) -> Any:
            if os.getpid() != pid:
                # A child of ours (the one that detaches the BPF programs at the end): the SDK
                # restarts its export thread after a fork, and it would push as another
                # instance of the job.
                return MetricExportResult.SUCCESS
            try:
                result = original(data, *args, **kwargs)
            except Exception as e:  # noqa: BLE001 - counted, said at the end
                result, self.last_failure = None, f"{type(e).__name__}: {e}"
            self.pushes += 1
            if result is None or result.name != "SUCCESS":
                self.failures += 1
                self.last_failure = self.last_failure or f"to {url}"
            return result

        exporter.export = export  # type: ignore[method-assign]
        self._provider = MeterProvider(
            resource=Resource.create({"service.name": "denet-tui"}),
            metric_readers=[PeriodicExportingMetricReader(exporter)],
            shutdown_on_exit=False,
        )
        meter = self._provider.get_meter("denet_tui")
        for d in DECLARED:
            make = (
                meter.create_observable_counter
                if d.kind == "counter"
                else (meter.create_observable_gauge)
            )
            make(d.name.removesuffix("_total"), callbacks=[self._observe(d)], description=d.doc)

    def _observe(self, d: Declared) -> Callable[[Any], Iterator[Any]]:
        from opentelemetry.metrics import Observation

        def observe(_options: Any) -> Iterator[Any]:
            with self.lock:
                run, group = self.run, self.group
                rows = [] if run is None else list(d.values(run))
            for labels, value in rows:
                yield Observation(
                    value, {"group": group, **dict(zip(d.labels, labels, strict=True))}
                )

        return observe

    def close(
        self,
        last: Snapshot | None,
        ended_by: str,
        finished: FinishedSummary = EMPTY_FINISHED,
        root: ProcessSample | None = None,
    ) -> None:
        """Push the final figures, then stop."""
        super().close(last, ended_by, finished, root)
        self._provider.shutdown()  # (a last collection and export first)
        if self.failures:
            tell(f"--otlp: {self.failures} of {self.pushes} pushes failed ({self.last_failure})")
