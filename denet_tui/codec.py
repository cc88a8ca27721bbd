"""Dataclasses to JSON and back, one generic way for every type of the model.

A class's JSON object has its fields as keys (a class-level ``KIND`` adds ``"kind"``); tuples
are lists, mappings objects, nested dataclasses nested objects. Decoding is strict about types
(a wrong one raises ValueError, a missing field without a default KeyError) and ignores keys it
does not know, so newer recordings with more figures still read.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, Literal, Union, get_args, get_origin

_PLAIN = (str, int, float, bool, type(None))


@cache
def _layout(cls: type) -> tuple[str | None, tuple[str, ...]] | None:
    """A dataclass's ``KIND`` and field names (None: not a dataclass)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return getattr(cls, "KIND", None), tuple(f.name for f in dataclasses.fields(cls))


def encode(obj: Any) -> Any:
    if isinstance(obj, _PLAIN):
        return obj
    layout = _layout(type(obj))
    if layout is not None:
        kind, names = layout
        out: dict[str, Any] = {} if kind is None else {"kind": kind}
        for name in names:
            v = getattr(obj, name)
            out[name] = v if isinstance(v, _PLAIN) else encode(v)
        return out
    hook = getattr(obj, "json_value", None)
    if hook is not None:
        return hook()  # a type that knows its own JSON form (already plain)
    if isinstance(obj, Mapping):
        return {str(k): v if isinstance(v, _PLAIN) else encode(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [v if isinstance(v, _PLAIN) else encode(v) for v in obj]
    return obj


@cache
def hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(cls: type, data: Any) -> Any:
    """An instance of dataclass ``cls`` from its JSON object."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    kw: dict[str, Any] = {}
    types_of = hints(cls)
    for old, new in getattr(cls, "RENAMED", {}).items():  # a field's name in older recordings
        if old in data and new not in data:
            data = {**data, new: data[old]}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kw[f.name] = value(types_of[f.name], data[f.name], f.name)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise KeyError(f.name)
    return cls(**kw)


def value(tp: Any, data: Any, where: str) -> Any:
    """``data`` as type ``tp`` (a type hint of the model)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if data is None and type(None) in options:
            return None
        (inner,) = [o for o in options if o is not type(None)]
        return value(inner, data, where)
    if origin is Literal:
        if data not in get_args(tp):
            raise ValueError(f"{where}: {data!r} is not one of {get_args(tp)}")
        return data
    if origin is tuple:
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list")
        return tuple(value(get_args(tp)[0], v, where) for v in data)
    if origin in (Mapping, dict) or tp is Mapping:
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object")
        args = get_args(tp)
        inner = args[1] if args else Any
        return {k: value(inner, v, where) for k, v in data.items()}
    if dataclasses.is_dataclass(tp):
        return decode(tp, data)  # type: ignore[arg-type]
    if hasattr(tp, "from_json_value"):
        return tp.from_json_value(data, where)  # a type that reads its own JSON form
    if tp is Any:
        return data
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ValueError(f"{where}: expected a number")
        return data
    if tp in (int, str, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise ValueError(f"{where}: expected {tp.__name__}")
        return data
    return data
