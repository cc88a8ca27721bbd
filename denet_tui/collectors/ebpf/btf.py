"""Where fields of kernel structs lie in the running kernel, from its BTF (/sys/kernel/btf/vmlinux).

BCC compiles against whatever headers the machine has; here those are another kernel's, so a
struct's layout in them may be wrong. The kernel's own type information is not: a program that
reads a field gets its offset from here, as a number.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import struct
from functools import cache
from pathlib import Path

VMLINUX = "/sys/kernel/btf/vmlinux"
_STRUCT, _UNION = 4, 5
# Bytes each kind of type has after its 12-byte header: fixed, and per item (vlen).
_EXTRA = {1: (4, 0), 3: (12, 0), 4: (0, 12), 5: (0, 12), 6: (0, 8), 13: (0, 8), 14: (4, 0),
          15: (0, 12), 17: (4, 0), 19: (0, 12)}  # fmt: skip


class BtfError(Exception):
    pass


class Btf:
    """The struct and union types of a BTF blob, by name; their members (name -> (type id, bit
    offset)), the anonymous ones (a struct inside a struct) listed apart, are read only for
    the types a lookup passes through (a kernel has some 150,000 members)."""

    def __init__(self, data: bytes) -> None:
        magic, _version, _flags, hdr_len, type_off, type_len, str_off, _str_len = (
            struct.unpack_from("<HBBIIIII", data)
        )
        if magic != 0xEB9F:
            raise BtfError("not BTF (bad magic)")
        self._data = data
        self._strings = hdr_len + str_off
        # type id -> (where its members start, how many, bitfield offsets?, its size)
        self._types: dict[int, tuple[int, int, int, int]] = {}
        self._by_name: dict[str, int] = {}
        self._members: dict[int, tuple[dict[str, tuple[int, int]], list[tuple[int, int]]]] = {}
        pos, end, tid = hdr_len + type_off, hdr_len + type_off + type_len, 1
        while pos < end:
            name_off, info, size = struct.unpack_from("<III", data, pos)
            kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
            fixed, per = _EXTRA.get(kind, (0, 0))
            body = pos + 12
            if kind in (_STRUCT, _UNION):
                # Bitfield structs' member offsets hold a bitfield size in their top byte.
                self._types[tid] = (body, vlen, info >> 31, size)
                if name_off:
                    self._by_name.setdefault(self._name(name_off), tid)
            pos = body + fixed + per * vlen
            tid += 1

    def _name(self, off: int) -> str:
        start = self._strings + off
        return self._data[start : self._data.index(b"\0", start)].decode()

    def _members_of(self, tid: int) -> tuple[dict[str, tuple[int, int]], list[tuple[int, int]]]:
        """Named members of struct/union ``tid``, and its anonymous ones."""
        got = self._members.get(tid)
        if got is None:
            body, vlen, bitfield, _size = self._types[tid]
            members: dict[str, tuple[int, int]] = {}
            anonymous: list[tuple[int, int]] = []
            for i in range(vlen):
                m_name, m_type, m_off = struct.unpack_from("<III", self._data, body + 12 * i)
                where = (m_type, m_off & 0xFFFFFF if bitfield else m_off)
                if m_name:
                    members[self._name(m_name)] = where
                else:
                    anonymous.append(where)
            got = self._members[tid] = (members, anonymous)
        return got

    def offset(self, struct_name: str, path: str) -> int:
        """Byte offset of ``path`` (``"se.sum_exec_runtime"``) within ``struct struct_name``."""
        tid = self._by_name.get(struct_name)
        if tid is None:
            raise BtfError(f"no struct {struct_name} in the kernel's BTF")
        total = 0
        for part in path.split("."):
            found = self._member(tid, part)
            if found is None:
                raise BtfError(f"no field {path} in struct {struct_name} of the kernel's BTF")
            tid, bits = found
            total += bits
        if total % 8:
            raise BtfError(f"{struct_name}.{path} is a bitfield")
        return total // 8

    def _member(self, tid: int, name: str) -> tuple[int, int] | None:
        """(type id, bit offset) of member ``name`` of type ``tid``, looking inside its
        anonymous structs and unions as C does."""
        if tid not in self._types:
            return None
        members, anonymous = self._members_of(tid)
        if name in members:
            return members[name]
        for inner, bits in anonymous:
            found = self._member(inner, name)
            if found is not None:
                return found[0], bits + found[1]
        return None

    def size(self, struct_name: str) -> int:
        """sizeof(struct struct_name) in the running kernel."""
        tid = self._by_name.get(struct_name)
        if tid is None:
            raise BtfError(f"no struct {struct_name} in the kernel's BTF")
        return self._types[tid][3]


@cache
def _parsed(source: str) -> Btf:
    """The BTF at ``source``, read once per process (the kernel's does not change)."""
    try:
        with open(source, "rb") as f:
            return Btf(f.read())
    except OSError as e:
        raise BtfError(f"cannot read the kernel's BTF ({source}): {e.strerror}") from None


def kernel_offsets(fields: dict[str, str], source: str = VMLINUX) -> dict[str, int]:
    """``{define name: "struct.path"}`` -> ``{define name: byte offset}`` in the running kernel;
    ``"sizeof struct"`` gives the struct's size. Answers are kept on disk for this kernel
    (parsing its BTF takes ~70 ms of Python, on the way to the first figures)."""
    known = _answers(source)
    missing = [where for where in fields.values() if where not in known]
    if missing:
        btf = _parsed(source)
        for where in missing:
            if where.startswith("sizeof "):
                known[where] = btf.size(where.removeprefix("sizeof "))
            else:
                struct_name, _, path = where.partition(".")
                known[where] = btf.offset(struct_name, path)
        _keep(source, known)
    return {define: known[where] for define, where in fields.items()}


def _cache_file(source: str) -> Path | None:
    """Where this kernel's answers are kept: named after its BTF's size and time and the
    kernel's version string (a new kernel, or a reboot, gets a new file); None if unknown."""
    try:
        st = os.stat(source)
        with open("/proc/version", "rb") as f:
            version = f.read()
    except OSError:
        return None
    key = hashlib.sha256(
        b"%s\0%d\0%d\0%s" % (source.encode(), st.st_size, st.st_mtime_ns, version)
    ).hexdigest()[:24]
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(home) / "denet-tui" / f"btf-{key}.json"


@cache
def _answers(source: str) -> dict[str, int]:
    """The answers kept for this kernel (read once per process; empty if none)."""
    path = _cache_file(source)
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and type(v) is int}


def _keep(source: str, answers: dict[str, int]) -> None:
    """Write the answers for the next start, in place of an earlier kernel's (best effort:
    never in another user's cache directory, never half a file)."""
    path = _cache_file(source)
    if path is None:
        return
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        # (root with a user's HOME, under sudo -E: not in that user's directory)
        if path.parent.parent.exists() and path.parent.parent.stat().st_uid != os.geteuid():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.stat().st_uid != os.geteuid():
            return
        tmp.write_text(json.dumps(answers, sort_keys=True))
        os.replace(tmp, path)
        for old in path.parent.glob("btf-*.json"):
            if old != path:
                old.unlink()
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
