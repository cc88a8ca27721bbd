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
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from operator import attrgetter
from typing import Any, Literal, Union, get_args, get_origin

_PLAIN = (str, int, float, bool, type(None))


def _plain_hint(tp: Any) -> bool:
    """A field whose every possible value is JSON as it is (a number, a string, None)."""
    if tp in _PLAIN:
        return True
    if get_origin(tp) in (Union, types.UnionType, Literal):
        return all(isinstance(a, str) or _plain_hint(a) for a in get_args(tp))
    return False


@cache
def _plan(cls: type) -> tuple[str | None, tuple[str, ...], tuple[str, ...], Any] | None:
    """How to encode a dataclass: its ``KIND``, field names, the fields that may hold something
    to encode further, and one getter of every field (a tuple). None: not a dataclass."""
    if not dataclasses.is_dataclass(cls):
        return None
    kind = getattr(cls, "KIND", None)
    names = tuple(f.name for f in dataclasses.fields(cls))
    types_of = hints(cls)
    nested = tuple(n for n in names if not _plain_hint(types_of[n]))
    return kind, names, nested, tuple_getter(names)


def tuple_getter(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """``attrgetter`` that gives a tuple even for one name (or none)."""
    if len(names) == 1:
        name = names[0]
        return lambda o: (getattr(o, name),)
    return attrgetter(*names) if names else lambda o: ()


def encode(obj: Any) -> Any:
    if isinstance(obj, _PLAIN):
        return obj
    plan = _plan(type(obj))
    if plan is not None:
        # The plain fields are copied in one step; only the others are looked at (the model
        # is written once per process per snapshot: this is on the hot path).
        kind, names, nested, getter = plan
        out: dict[str, Any] = {} if kind is None else {"kind": kind}
        out.update(zip(names, getter(obj), strict=True))
        for name in nested:
            v = out[name]
            if not isinstance(v, _PLAIN):
                out[name] = encode(v)
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
