"""Choose the collector: eBPF where this machine allows it, else /proc, always with the reason."""

from __future__ import annotations

from denet_tui.collectors.base import Collector, CollectorError
from denet_tui.evolve import evolve


def select_collector(
    choice: str,
    *,
    latency: bool = True,
    sample_hz: float = 100.0,
    probes: frozenset[str] | None = None,
    detach_later: bool = False,
) -> tuple[Collector, str]:
    """Return a ready (compiled, not yet started) collector and why it was chosen.

    ``choice`` is "auto", "ebpf" or "procfs". "ebpf" that cannot work raises CollectorError
    with the reason; "auto" falls back to /proc and keeps that reason.
    """
    from denet_tui.collectors.procfs import ProcfsCollector

    if choice == "procfs":
        return _with_reason(ProcfsCollector(sample_hz=sample_hz), "procfs requested")
    if choice not in ("auto", "ebpf"):
        raise CollectorError(f"unknown collector: {choice}")
    try:
        from denet_tui.collectors.ebpf.support import ebpf_unavailable_reason

        reason = ebpf_unavailable_reason()
        if reason is not None:
            raise CollectorError(reason)
        try:
            from denet_tui.collectors.ebpf import EbpfCollector
        except ImportError as e:
            raise CollectorError(f"ebpf unavailable: cannot load the eBPF collector ({e})") from e
        return _with_reason(
            EbpfCollector(latency=latency, probes=probes, detach_later=detach_later),
            "ebpf requested" if choice == "ebpf" else "ebpf available",
        )
    except CollectorError as e:
        if choice == "ebpf":
            raise
        reason = str(e) if str(e).startswith("ebpf") else f"ebpf unavailable: {e}"
        return _with_reason(ProcfsCollector(sample_hz=sample_hz), reason)


def _with_reason(collector: Collector, reason: str) -> tuple[Collector, str]:
    collector.info = evolve(collector.info, reason=reason)
    return collector, reason
