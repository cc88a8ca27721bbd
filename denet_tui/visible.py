"""Untrusted text (process names, command lines, paths) made safe to put on a terminal.

Any process we watch, another user's included, chooses its name and arguments. Written as is,
an ESC or a C1 control starts a terminal escape sequence (retitle the window, clear the screen,
…) and a newline or carriage return moves figures under the wrong process. ``visible`` writes
every such character as an escape a person can read: ``\\e``, ``\\n``, ``\\x07``, ``\\x9b``.
"""

from __future__ import annotations

import sys

_NAMED = {0x1B: "\\e", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
# C0 controls, DEL, C1 controls, the two Unicode line breaks that some renderers honour, and the
# bidirectional controls that reorder what follows them (a name that reads backwards).
_CONTROLS = [
    *range(0x00, 0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x2028,
    0x2029,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
]
_TABLE = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROLS}
# Bytes of an argument that were not UTF-8 (Python keeps them as lone surrogates): as \xNN.
_TABLE.update({c: f"\\x{c - 0xDC00:02x}" for c in range(0xDC80, 0xDD00)})


def visible(text: str) -> str:
    """``text`` with every control character written as a readable escape."""
    return text.translate(_TABLE)


def tell(message: str) -> None:
    """One line for the user on stderr, prefixed ``denet-tui:``, safe to print.

    The terminal may be gone (a closed tmux session, a hang-up): losing the line is better than
    an exception on the way out, which would skip the clean-up after it.
    """
    try:
        sys.stderr.write(f"denet-tui: {visible(message)}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
