"""A finished run read back for reports, diffs and budgets: a JSON-lines recording (``--record``,
``--json --out``) or an export (``--export``, one snapshot).

Every process ever seen is kept with its last sample (a snapshot lists what is alive plus what
ended since the previous one); the snapshots' tree figures are kept for the time series. A bad
file is a :class:`~denet_tui.collectors.base.CollectorError` with one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.replay import ReplayCollector
from denet_tui.finished import wall_s
from denet_tui.model import SCHEMA_VERSION, FinishedSummary, Meta, ProcessSample, Snapshot
from denet_tui.wire import READABLE_SCHEMAS

ProcessKey = tuple[int, float | None]  # pid, start time


@dataclass
class Recording:
    path: str
    meta: Meta
    snapshots: list[Snapshot]
    end: dict[str, Any] | None  # the end record; None: cut short, or an export
    schema: int | None = None  # as written
    processes: dict[ProcessKey, ProcessSample] = field(default_factory=dict)
    finished: FinishedSummary | None = None
    truncated_at: int | None = None  # the line a cut-short recording stops at

    @property
    def last(self) -> Snapshot:
        return self.snapshots[-1]

    @property
    def command(self) -> str:
        return " ".join(self.meta.cmd) if self.meta.cmd else f"pid {self.meta.pid}"

    @property
    def wall_s(self) -> float:
        """The command's wall time, as ``/usr/bin/time`` and the Summary tab give it: its root
        process's start to its end; where either is unknown, how long it was watched."""
        pid = self.last.target.pid
        roots = [p for (root, _start), p in self.processes.items() if root == pid]
        wall = wall_s(max(roots, key=lambda p: p.start_ts or 0.0)) if roots else None
        if wall is not None:
            return wall
        return float(self.end["duration_s"]) if self.end else self.last.t

    @property
    def exit_code(self) -> int | None:
        return self.end.get("exit_code") if self.end else self.last.target.exit_code


def _keep(rec: Recording, snap: Snapshot) -> None:
    for p in snap.processes:
        rec.processes[p.pid, p.start_ts] = p


def load(path: str) -> Recording:
    """The run in ``path``; CollectorError (one line) if it is not one of ours."""
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(2)
    except (OSError, UnicodeDecodeError) as e:
        raise CollectorError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    if head.startswith("{\n"):
        return _export(path)
    replay = ReplayCollector(path)
    try:
        rec = Recording(path, replay.meta, [], None, schema=replay.schema)
        while True:
            snap = replay.sample()
            rec.snapshots.append(snap)
            _keep(rec, snap)
            if replay.finished:
                break
        rec.end, rec.truncated_at = replay.end, replay.truncated_at
        if rec.end and rec.end.get("finished") is not None:
            rec.finished = FinishedSummary.from_dict(rec.end["finished"])
        return rec
    finally:
        replay.close()


def _export(path: str) -> Recording:
    try:
        with open(path, encoding="utf-8") as f:
            obj = json.load(f)
    except ValueError:
        raise CollectorError(f"{path}: not JSON (an export is one JSON object)") from None
    if not isinstance(obj, dict) or obj.get("kind") != "snapshot" or "meta" not in obj:
        raise CollectorError(f"{path}: not a denet-tui export (no snapshot with its meta)")
    schema = obj["meta"].get("schema")
    if schema not in READABLE_SCHEMAS:
        raise CollectorError(
            f"{path}: export schema {schema!r}, this denet-tui reads "
            + " and ".join(map(str, READABLE_SCHEMAS))
        )
    try:
        meta = Meta.from_dict({**obj["meta"], "schema": SCHEMA_VERSION})
        snap = Snapshot.from_dict({k: v for k, v in obj.items() if k not in ("meta", "finished")})
        finished = FinishedSummary.from_dict(obj["finished"]) if "finished" in obj else None
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise CollectorError(f"{path}: malformed export ({e})") from None
    rec = Recording(path, meta, [snap], None, schema=schema, finished=finished)
    _keep(rec, snap)
    return rec
