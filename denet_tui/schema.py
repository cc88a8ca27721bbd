"""The JSON Schema of the JSON lines (stream, recording, replay) and of ``--export``, generated
from the model's dataclasses: the shipped ``jsonl.schema.json`` is this, written by
``scripts/gen_schema.py``, and a test keeps the two equal.

Rules: every field is required (the output always has them all); numbers are at least 0 unless a
field's metadata says otherwise (``minimum``, ``maximum``, ``exclusiveMinimum``, ``const``, or
``signed``: any integer); a
field's ``doc`` metadata is its description; ``X | None`` may be null; a class ``KIND`` is the
constant ``kind`` of its record.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

from denet_tui.codec import hints
from denet_tui.figures import BY_KEY
from denet_tui.model import (
    SCHEMA_VERSION,
    CapabilityStat,
    CategoryStat,
    CollectorInfo,
    CommandStats,
    Connection,
    DiskDevice,
    End,
    ExecEvent,
    FileStat,
    FinishedSummary,
    Meta,
    PrivilegeEvent,
    ProcessDisk,
    ProcessNet,
    ProcessSample,
    ProcessSched,
    ProcessSyscalls,
    SignalEvent,
    Snapshot,
    SyscallStat,
    SyscallSummary,
    TargetStatus,
    TreeMemory,
    TreeSched,
    TreeTotals,
    Watched,
)

NAMES: dict[type, str] = {
    Meta: "meta",
    Snapshot: "snapshot",
    End: "end",
    Watched: "watched",
    CollectorInfo: "collector",
    ProcessSample: "process",
    ProcessSyscalls: "process_syscalls",
    ProcessSched: "process_sched",
    ProcessNet: "process_net",
    ProcessDisk: "process_disk",
    DiskDevice: "disk_device",
    Connection: "connection",
    TreeSched: "tree_sched",
    TreeMemory: "tree_memory",
    ExecEvent: "exec_event",
    FileStat: "file_stat",
    SignalEvent: "signal_event",
    PrivilegeEvent: "privilege_event",
    CapabilityStat: "capability_stat",
    TreeTotals: "totals",
    FinishedSummary: "finished",
    CommandStats: "command_stats",
    TargetStatus: "target_status",
    SyscallSummary: "summary",
    SyscallStat: "syscall_stat",
    CategoryStat: "category_stat",
}
NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum")


def type_schema(tp: Any, meta: Mapping[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [o for o in get_args(tp) if o is not type(None)]
        (inner,) = options
        s = type_schema(inner, meta)
        if "$ref" in s:
            return {"oneOf": [s, {"type": "null"}]}
        if "enum" in s:
            return {"enum": [*s["enum"], None]}
        return {**s, "type": [s["type"], "null"]}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin is tuple:
        return {"type": "array", "items": type_schema(get_args(tp)[0], meta)}
    if origin in (Mapping, dict) or tp is Mapping:
        args = get_args(tp)
        inner = args[1] if args else Any
        if inner is Any:
            return {"type": "object"}
        return {"type": "object", "additionalProperties": type_schema(inner, {})}
    if dataclasses.is_dataclass(tp):
        return {"$ref": f"#/$defs/{NAMES[tp]}"}  # type: ignore[index]
    if hasattr(tp, "json_schema"):
        return tp.json_schema()
    if tp in (int, float):
        s: dict[str, Any] = {"type": "integer" if tp is int else "number"}
        if meta.get("signed"):
            return s  # (a call's result: a negative errno on failure)
        bounds = {k: meta[k] for k in NUMBER_KEYS if k in meta}
        return {**s, **(bounds or {"minimum": 0})}
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    return {}


def field_schema(cls: type, f: dataclasses.Field, tp: Any) -> dict[str, Any]:
    meta = f.metadata
    if "const" in meta:
        return {"const": meta["const"]}
    s = type_schema(tp, meta)
    doc = meta.get("doc")
    if doc is None and cls is ProcessSample and f.name in BY_KEY:
        doc = BY_KEY[f.name].doc  # every figure is described once, in denet_tui.figures
    if doc is None and cls is ProcessSyscalls and f.name == "count":
        doc = BY_KEY["syscalls"].doc
    if doc is not None:
        s["description"] = doc
    return s


def class_schema(cls: type) -> dict[str, Any]:
    props: dict[str, Any] = {}
    kind = getattr(cls, "KIND", None)
    if kind is not None:
        props["kind"] = {"const": kind}
    types_of = hints(cls)
    for f in dataclasses.fields(cls):
        props[f.name] = field_schema(cls, f, types_of[f.name])
    out: dict[str, Any] = {"type": "object", "additionalProperties": False}
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        out["description"] = " ".join(cls.__doc__.split())
    out["required"] = list(props)
    out["properties"] = props
    return out


def generate() -> dict[str, Any]:
    defs = {name: class_schema(cls) for cls, name in NAMES.items()}
    export = class_schema(Snapshot)
    export["description"] = (
        "`--export`: one snapshot, with the meta record under `meta` and every process that "
        "ended, by command, under `finished`."
    )
    export["required"] = [*export["required"], "meta", "finished"]
    export["properties"] = {
        **export["properties"],
        "meta": {"$ref": "#/$defs/meta"},
        "finished": {"$ref": "#/$defs/finished"},
    }
    defs = {**{k: defs[k] for k in ("meta", "snapshot", "end")}, "export": export, **defs}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"denet-tui/jsonl/{SCHEMA_VERSION}",
        "title": "denet-tui JSON lines (stream, recording, replay) and export",
        "description": (
            "Each line of a stream/recording is one of meta, snapshot, end. `--export` writes "
            "one export object (a snapshot with meta). Counters are cumulative since the start; "
            "a figure a source cannot give is null, never 0. Generated from the model "
            "(denet_tui/schema.py)."
        ),
        "oneOf": [{"$ref": f"#/$defs/{k}"} for k in ("meta", "snapshot", "end", "export")],
        "$defs": defs,
    }
