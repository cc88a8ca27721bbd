"""The two header lines: what is watched, by which collector, for how long, and how it stands."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from denet_tui.model import Meta, Snapshot
from denet_tui.widgets.format import collector_label, fmt_elapsed, fmt_status

_STATUS_STYLE = {
    "starting": "bold yellow",
    "running": "bold green",
    "gone": "bold yellow",
    "killed": "bold red",
}


@dataclass(frozen=True, slots=True)
class HeaderState:
    """Everything the header shows besides the meta: the screen's own situation."""

    snapshot: Snapshot | None = None
    replay: bool = False
    paused: bool = False
    scope: str | None = None  # "make (4242)" when scoped to a subtree
    running: int = 0  # processes of the tree alive now
    exited: int = 0  # processes of the tree seen and gone
    note: str | None = None  # why collection stopped, when it stopped early


def header_text(meta: Meta, state: HeaderState) -> Text:
    """Two lines; the command and process names are untrusted and never parsed as markup."""
    snap = state.snapshot
    line1 = Text(no_wrap=True, overflow="ellipsis")
    line1.append(" replay " if state.replay else " denet-tui ", style="bold reverse")
    line1.append(" ")
    if snap is None:
        line1.append("● starting", style="bold yellow")
    else:
        st = snap.target
        style = _STATUS_STYLE.get(st.status, "bold green" if st.exit_code == 0 else "bold red")
        line1.append(f"● {fmt_status(st)}", style=style)
        line1.append(f"  {fmt_elapsed(snap.t)}", style="bold")
    line1.append(f"  pid {meta.pid}", style="cyan")
    if meta.mode == "attach":
        line1.append(" (attached)", style="dim")
    line1.append("  ")
    line1.append(Text(shlex.join(meta.cmd) if meta.cmd else "?", style="bold"))

    line2 = Text(no_wrap=True, overflow="ellipsis")
    line2.append(" ")
    exact = meta.collector.syscalls == "exact"
    line2.append(collector_label(meta.collector), style="green" if exact else "yellow")
    line2.append("  │  ", style="dim")
    if state.scope is None:
        line2.append(f"whole tree · {state.running} running")
        if state.exited:
            line2.append(f" · {state.exited} exited", style="dim")
    else:
        line2.append("scope: ", style="bold")
        line2.append(Text(state.scope, style="bold cyan"))
        line2.append(" subtree (esc: whole tree)", style="dim")
    if state.paused:
        line2.append("  │  ", style="dim")
        line2.append(
            "⏸ replay paused (n: step)" if state.replay else "⏸ view paused, still collecting",
            style="bold reverse yellow",
        )
    if state.note:
        line2.append("  │  ", style="dim")
        line2.append(Text(state.note, style="bold"))
    return Text("\n", no_wrap=True, overflow="ellipsis").join([line1, line2])


class StatusHeader(Static):
    """Header: ``show(state)`` on every snapshot or change of view state."""

    def __init__(self, meta: Meta, *, id: str | None = None) -> None:
        super().__init__(header_text(meta, HeaderState()), id=id)
        self._meta = meta
        self._state = HeaderState()

    def show(self, state: HeaderState) -> None:
        if state != self._state:
            self._state = state
            self.update(header_text(self._meta, state), layout=False)
