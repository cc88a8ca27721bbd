"""Everything that consumes snapshots is a sink: the JSON-lines stream (``--json``, ``--record``),
the export at exit (``--export``), and the screen. One protocol, driven by the one run loop
(:mod:`denet_tui.pump`): ``begin`` once the collector is armed, ``write`` per snapshot, ``close``
at the end with the last snapshot and why it ended."""

from denet_tui.sinks.base import Sink

__all__ = ["Sink"]
