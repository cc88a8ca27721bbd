"""Snapshots on the wire (JSON lines), and back.

A process's per-syscall table is written only when it changed since the previous snapshot that
listed the process; otherwise its ``syscalls.by_name`` is null and a reader takes it from there
(:class:`TableMemory`). Recordings of schema 1 (every process ever seen in every snapshot,
syscall figures flat on the process) and schema 2 (per-syscall objects) are read too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson

from denet_tui.evolve import evolve
from denet_tui.ledger import CounterSums
from denet_tui.model import ProcessSample, ProcessSyscalls, Snapshot

READABLE_SCHEMAS = (1, 2, 3, 4, 5)


_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # made once, not per call


def dumps(obj: Any) -> str:
    """Plain data (dicts, lists, strings, numbers) as compact JSON. orjson writes it several
    times faster than ``json``; what orjson refuses (a text holding an unpaired surrogate) is
    written by ``json``, escaped."""
    try:
        return orjson.dumps(obj, default=_plain, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(obj)


def _plain(obj: Any) -> Any:
    """What orjson does not write itself: a type with its own JSON form, or a mapping."""
    hook = getattr(obj, "json_value", None)
    if hook is not None:
        return hook()
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"not JSON: {type(obj).__name__}")


def model_text(obj: Any) -> str:
    """A model object (a process, a snapshot) as JSON, as ``dumps(obj.to_dict())`` writes
    it, about four times faster: orjson writes dataclasses itself, so the model's own encoding
    is skipped (a snapshot lists hundreds of processes a second in a build)."""
    try:
        text = orjson.dumps(obj, default=_plain, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return _ENCODER.encode(obj.to_dict())
    kind = getattr(obj, "KIND", None)  # (the codec writes it first)
    return text if kind is None else '{"kind":' + json.dumps(kind) + "," + text[1:]


class TableElider:
    """Writer side: which process's table was written last time, to leave it out when the same
    (the collectors hand out the same section object while a table is unchanged), and the text
    of each process as last written (the same sample object is not encoded again)."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[float | None, ProcessSyscalls]] = {}
        self._text: dict[int, tuple[ProcessSample, bool, str]] = {}

    def line(self, snap: Snapshot) -> str:
        """The snapshot as one JSON text (no newline)."""
        last, now = self._last, {}
        texts, new_texts = self._text, {}
        parts = []
        for p in snap.processes:
            section = p.syscalls
            before = last.get(p.pid) if section is not None else None
            same_table = before is not None and before[0] == p.start_ts and before[1] is section
            cached = texts.get(p.pid)
            if cached is not None and cached[0] is p and cached[1] == same_table:
                text = cached[2]
            elif same_table and section is not None:
                elided = ProcessSyscalls(count=section.count, by_name=None)
                text = model_text(evolve(p, syscalls=elided))
            else:
                text = model_text(p)
            parts.append(text)
            if p.alive:
                if section is not None:
                    now[p.pid] = (p.start_ts, section)
                new_texts[p.pid] = (p, same_table, text)
        self._last, self._text = now, new_texts
        head = model_text(evolve(snap, processes=()))
        marker = '"processes":[]'
        assert marker in head
        return head.replace(marker, '"processes":[' + ",".join(parts) + "]", 1)


class TableMemory:
    """Reader side: fills each null ``by_name`` from the process's previous listing."""

    def __init__(self) -> None:
        self._last: dict[int, tuple[float | None, ProcessSyscalls]] = {}

    def restore(self, snap: Snapshot) -> Snapshot:
        last, now = self._last, {}
        processes = []
        changed = False
        for p in snap.processes:
            section = p.syscalls
            if section is not None and section.by_name is None:
                before = last.get(p.pid)
                if before is None or before[0] != p.start_ts:
                    raise ValueError(f"process {p.pid}: syscall table left out, never written")
                section = ProcessSyscalls(count=section.count, by_name=before[1].by_name)
                p = evolve(p, syscalls=section)
                changed = True
            if section is not None and p.alive:
                now[p.pid] = (p.start_ts, section)
            processes.append(p)
        self._last = now
        return evolve(snap, processes=processes) if changed else snap


def upgrade_v1(obj: dict[str, Any]) -> dict[str, Any]:
    """A schema-1 snapshot (or end) record, as schema 2: each process's flat ``syscalls``
    count and ``syscalls_by_name`` become its ``syscalls`` section."""
    processes = obj.get("processes")
    target = obj.get("target")
    root, root_code = (
        (target.get("pid"), target.get("exit_code")) if isinstance(target, dict) else (None, None)
    )
    for p in processes if isinstance(processes, list) else ():
        if isinstance(p, dict) and "syscalls_by_name" in p:
            p["syscalls"] = {"count": p.get("syscalls"), "by_name": p.pop("syscalls_by_name")}
        if isinstance(p, dict) and not p.get("alive") and p.get("pid") == root:
            p.setdefault("exit_code", root_code)  # the root's status was always recorded
    return obj


def totals_of_listing(snap: Snapshot) -> Snapshot:
    """A schema-1 snapshot with its totals: it listed every process ever seen, so the totals
    are the sums over its listing."""
    sums = CounterSums()
    for p in snap.processes:
        sums.add(p)
    live = sum(1 for p in snap.processes if p.alive)
    return evolve(snap, totals=sums.totals(live=live, ended=len(snap.processes) - live))
