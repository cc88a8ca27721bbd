"""Bytes from the kernel or /proc (paths, arguments, process names) as text that still says
exactly which bytes they were."""

from __future__ import annotations


def decoded(raw: bytes) -> str:
    """UTF-8 as is; a byte that is not UTF-8 as ``\\xNN``; a backslash as ``\\\\`` (strace's
    convention), so the two never mix: ``bad\\xff`` is a 0xFF byte, ``bad\\\\xff`` a backslash
    and three letters."""
    return raw.replace(b"\\", b"\\\\").decode(errors="backslashreplace")


def c_string(raw: bytes) -> str:
    """A NUL-terminated kernel string (``decoded``)."""
    return decoded(raw.split(b"\0", 1)[0])
