"""Repaint only what changed.

Textual repaints a widget whenever its border title is assigned, even to the same text, and one
frame repaints every widget inside the box that bounds all dirty regions: a title set at the top
and a sparkline at the bottom redraw the whole screen. At one snapshot a second that was the
screen's whole idle cost.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

_SHOWN = "_denet_shown_title"


def set_border_title(widget: Widget, title: str | Text) -> None:
    """Set ``widget``'s border title, repainting only if it differs from the one shown."""
    key = (title.plain, tuple(title.spans)) if isinstance(title, Text) else title
    if getattr(widget, _SHOWN, None) != key:
        setattr(widget, _SHOWN, key)
        widget.border_title = title
