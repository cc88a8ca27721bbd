"""Output files (``--out``, ``--record``, ``--export``) are checked before anything starts, so a
long run is never lost at its end to a typo in a folder name."""

from __future__ import annotations

import os

from denet_tui.target import TargetError

EXIT_USAGE = 2


def unwritable_reason(path: str) -> str | None:
    """Why ``path`` cannot be written (created or replaced), or None when it can."""
    if not path:
        return "no file name given"
    full = os.path.abspath(path)
    folder = os.path.dirname(full)
    if os.path.isdir(full):
        return "is a directory"
    if not os.path.isdir(folder):
        return (
            f"no such directory: {folder}"
            if not os.path.exists(folder)
            else (f"not a directory: {folder}")
        )
    if os.path.exists(full) and not os.access(full, os.W_OK):
        return "permission denied"
    if os.path.exists(full) and not os.path.isfile(full):
        return None  # a device or a pipe (/dev/stdout, a fifo): written into, never replaced
    # Exports are written beside the file and renamed into place, so the folder must take a new
    # file: try it (permission bits alone do not tell root about read-only or special folders).
    probe = f"{full}.denet-tui-probe-{os.getpid()}"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as e:
        return f"cannot create files in {folder}: {e.strerror}"
    os.unlink(probe)
    return None


class OutputError(TargetError):
    """An output could not be written (a full disk, a device that refuses): one line, exit 2."""

    def __init__(self, path: str, error: OSError) -> None:
        super().__init__(f"cannot write {path}: {error.strerror or error}", EXIT_USAGE)


def check_writable(path: str, option: str) -> None:
    """Raise the one-line usage error (exit 2) when ``path`` cannot be written."""
    reason = unwritable_reason(path)
    if reason is not None:
        raise TargetError(f"{option} {path}: {reason}", EXIT_USAGE)
