"""``run --budget EXPR``: limits on the run's final figures, checked when it ends.

``EXPR`` is ``NAME<=VALUE`` or ``NAME<VALUE``. NAME is a tree figure the model declares (a
counter of :mod:`denet_tui.figures` such as ``cpu_time_s``, ``read_bytes``, ``syscalls``, a
peak such as ``peak_rss_max_bytes``, ``processes_seen``), ``syscalls.NAME`` (calls of one
syscall), ``errors`` (failed syscalls) or ``errors.NAME``, ``wall_s``, or a short name:
``cpu_s``, ``peak_rss`` (the largest peak RSS of any process), ``rss_sum_peak``, ``processes``.
VALUE takes units: bytes (``KB MB GB`` ×1000, ``KiB MiB GiB TiB`` ×1024), time (``ms s m h``),
a count (``k`` ×1000, ``M`` ×10⁶), or ``%`` nowhere.

A budget exceeded is one line naming it with the measured figure; the run then exits with
:data:`EXIT_BUDGET` unless the command itself failed (its status wins). A figure the run did
not measure (the /proc collector's syscall counts) cannot be checked: said so, and counted as
exceeded (a budget nobody checked is no budget).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from denet_tui.figures import COUNTERS
from denet_tui.model import PEAKS, Snapshot
from denet_tui.syscalls import known_syscall

EXIT_BUDGET = 3
ALIASES = {
    "cpu_s": "cpu_time_s",
    "peak_rss": "peak_rss_max_bytes",
    "rss_sum_peak": "rss_sum_peak_bytes",
    "processes": "processes_seen",
}
UNITS = {
    "": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20,
    "gib": 2**30, "tib": 2**40, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "k": 1e3,
}  # fmt: skip
TOTALS = frozenset({f.key for f in COUNTERS} | set(PEAKS) | {"processes_seen"})
EXPR = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(<=|<)\s*([0-9][0-9_.,]*)\s*([A-Za-z]*)\s*$")


class BudgetError(ValueError):
    """A budget that cannot be understood (one line)."""


@dataclass(frozen=True, slots=True)
class Budget:
    text: str
    name: str  # as the model calls it
    strict: bool  # "<"
    limit: float

    def holds(self, value: float) -> bool:
        return value < self.limit if self.strict else value <= self.limit


def parse(text: str) -> Budget:
    m = EXPR.match(text)
    if m is None:
        raise BudgetError(f"--budget {text!r}: expected NAME<=VALUE, e.g. cpu_s<=120")
    name, op, number, unit = m.groups()
    name = ALIASES.get(name, name)
    known = (
        name in TOTALS
        or name in ("wall_s", "errors")
        or (name.startswith(("syscalls.", "errors.")) and known_syscall(name.split(".", 1)[1]))
    )
    if not known:
        raise BudgetError(
            f"--budget {text!r}: no figure {name!r} (known: cpu_s, wall_s, peak_rss, errors, "
            "syscalls, syscalls.NAME, errors.NAME, read_bytes, … — see README: Budgets)"
        )
    factor = UNITS.get(unit.lower()) if unit != "M" else 1e6
    if factor is None:
        raise BudgetError(f"--budget {text!r}: unknown unit {unit!r}")
    try:
        value = float(number.replace("_", "").replace(",", "")) * factor
    except ValueError:
        raise BudgetError(f"--budget {text!r}: {number!r} is not a number") from None
    return Budget(text.strip(), name, op == "<", value)


def measured(name: str, last: Snapshot, wall_s: float) -> float | None:
    """The run's figure ``name`` (None: not measured)."""
    if name == "wall_s":
        return wall_s
    s = last.syscalls
    if name == "errors":
        errs = [x.errors for x in s.by_name.values()]
        return None if not errs or any(e is None for e in errs) else sum(errs)  # type: ignore[misc]
    if "." in name:
        kind, call = name.split(".", 1)
        stat = s.by_name.get(call)
        if stat is None:
            return 0 if s.total is not None else None  # counted exactly, never made
        return stat.count if kind == "syscalls" else stat.errors
    return getattr(last.totals, name)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.3f}"


def check(budgets: list[Budget], last: Snapshot, wall_s: float) -> list[str]:
    """One line per budget not kept (exceeded, or not measured here)."""
    out = []
    for b in budgets:
        v = measured(b.name, last, wall_s)
        if v is None:
            out.append(f"budget {b.text}: not measured in this run ({b.name} is unknown here)")
        elif not b.holds(v):
            out.append(f"budget exceeded: {b.text} (measured {b.name} = {_fmt(v)})")
    return out
