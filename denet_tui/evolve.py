"""``evolve``: ``dataclasses.replace`` for the model's frozen, slotted classes, ~4× faster.

The collectors remake each process's sample several times a snapshot (hundreds a second under
churn), and ``replace`` (a loop over the fields, then ``__init__`` with every one of them as a
keyword) was a tenth of the eBPF collector's time. Here each class gets one generated function
that copies its slots straight across; it checks the names and runs ``__post_init__`` as
``replace`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_MADE: dict[type, Callable[[Any, dict[str, Any]], Any]] = {}


def evolve(obj: T, **changes: Any) -> T:
    """A copy of ``obj`` (a dataclass instance) with ``changes``, as ``dataclasses.replace``."""
    make = _MADE.get(type(obj))
    if make is None:
        make = _MADE[type(obj)] = _maker(type(obj))
    return make(obj, changes)


def _maker(cls: type) -> Callable[[Any, dict[str, Any]], Any]:
    fields = dataclasses.fields(cls)
    if not _plain(cls) or any(not f.init for f in fields):
        return lambda obj, changes: dataclasses.replace(obj, **changes)
    names = [f.name for f in fields]
    scope: dict[str, Any] = {
        "cls": cls,
        "new": object.__new__,
        "NAMES": frozenset(names),
        "unknown": _unknown,
        **{f"set_{n}": getattr(cls, n).__set__ for n in names},
    }
    lines = [
        "def make(obj, changes):",
        "    if not changes.keys() <= NAMES:",
        "        unknown(cls, changes.keys() - NAMES)",
        "    out = new(cls)",
        "    get = changes.get",
        *(f"    set_{n}(out, get({n!r}, obj.{n}))" for n in names),
    ]
    if hasattr(cls, "__post_init__"):
        lines.append("    out.__post_init__()")
    lines.append("    return out")
    exec("\n".join(lines), scope)  # (names are the class's own fields: identifiers)
    return scope["make"]


def _plain(cls: type) -> bool:
    """A slotted dataclass whose ``__init__`` is the one dataclasses wrote (not a class's own,
    which ``replace`` would call), with no InitVar (which ``replace`` needs to be given)."""
    init = getattr(cls.__init__, "__code__", None)
    initvar = getattr(dataclasses, "_FIELD_INITVAR", None)
    return (
        "__slots__" in cls.__dict__
        and "__dataclass_fields__" in cls.__dict__
        and init is not None
        and init.co_filename == "<string>"  # (dataclasses makes its methods with exec)
        and all(f._field_type is not initvar for f in cls.__dataclass_fields__.values())  # type: ignore[attr-defined]
    )


def _unknown(cls: type, names: set[str]) -> None:
    raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(names))}")
