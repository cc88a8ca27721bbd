"""The garbage collector's schedule for a long-lived monitor.

Measured on the churn workload (200 new processes a second, the screen): with CPython's
defaults the collector spent 4% of a core in collections, most of it in full collections
walking everything the program built at start-up (modules, Textual, BCC's tables), which never
becomes garbage. Those objects are frozen once the collector is armed. Young collections
wait for 100,000 objects more than were freed: what a sample makes lives for a few seconds
(until its processes are reaped) and is freed by reference counting, so the headless
collector, which makes almost no cyclic garbage, then needs next to no collections (with a
threshold of 10,000 it still spent 0.7% of a core in them); the screen's rendering makes
some (Textual's strips), collected every ~20 s in ~0.1 s.
"""

from __future__ import annotations

import gc

# Young collections every 100,000 net new container objects (CPython: 700), each older
# generation after 10 of the younger's.
THRESHOLDS = (100_000, 10, 10)


def tune() -> None:
    """Collect less often (call once, at start)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_startup() -> None:
    """Leave what exists now (start-up's long-lived objects) out of every later collection:
    once collected (~0.1 s), so that start-up's garbage is not kept for ever."""
    gc.collect()
    gc.freeze()
