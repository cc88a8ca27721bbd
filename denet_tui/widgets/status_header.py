"""The two header lines: what is watched, by which collector, for how long, and how it stands."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Protocol

from rich.text import Text
from textual.widgets import Static

from denet_tui.model import Meta, Snapshot
from denet_tui.visible import visible
from denet_tui.widgets.format import collector_label, data_warnings, fmt_elapsed, fmt_status

_STATUS_STYLE = {
    "starting": "bold yellow",
    "running": "bold green",
    "stopped": "bold reverse yellow",
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
    running: int = 0  # processes of the tree alive now, not stopped
    stopped: int = 0  # alive but stopped (kill -STOP, ctrl+z, a tracer)
    exited: int = 0  # processes of the tree seen and gone
    note: str | None = None  # why collection stopped, when it stopped early
    watching_rest: bool = True  # after the root ends, the rest of the tree is still watched
    outputs: str = ""  # where the figures are also served or sent (--prometheus, --otlp)


class Watched(Protocol):
    """What line 1 names: a Meta, or a Starting while the collector is being armed."""

    @property
    def mode(self) -> str: ...
    @property
    def cmd(self) -> tuple[str, ...]: ...
    @property
    def pid(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Starting:
    """What the header knows while the collector is being armed: the target, and what is done."""

    mode: str
    cmd: tuple[str, ...]
    pid: int
    doing: str  # "loading eBPF…"


def _line1(watched: Watched, state: HeaderState) -> Text:
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
        if st.finished and (left := state.running + state.stopped):
            # The root is gone, its background jobs are not (a daemon, `cmd &`, a build's tail).
            line1.append(f" · {left} still running", style="bold yellow")
            line1.append(
                " (watched until they end)"
                if state.watching_rest
                else " (not watched: --exit-with-root)",
                style="yellow",
            )
        line1.append(f"  {fmt_elapsed(snap.t)}", style="bold")
    line1.append(f"  pid {watched.pid}", style="cyan")
    if watched.mode == "attach":
        line1.append(" (attached)", style="dim")
    line1.append("  ")
    line1.append(Text(visible(shlex.join(watched.cmd)) if watched.cmd else "?", style="bold"))
    return line1


def starting_text(starting: Starting, *, quitting: bool = False) -> Text:
    """The header while arming: the command and its pid, what is being done, no figures."""
    line2 = Text(no_wrap=True, overflow="ellipsis")
    line2.append(" ")
    line2.append(f"◌ starting: {starting.doing}", style="bold yellow")
    if quitting:
        line2.append("  │  ", style="dim")
        line2.append("quitting as soon as it is done; the command will not run", style="bold")
    elif starting.mode == "run":
        line2.append("  │  ", style="dim")
        line2.append("the command waits until the collector is armed", style="dim")
    return Text("\n", no_wrap=True, overflow="ellipsis").join(
        [_line1(starting, HeaderState()), line2]
    )


def header_text(meta: Meta, state: HeaderState) -> Text:
    """Two lines; the command and process names are untrusted and never parsed as markup."""
    line1 = _line1(meta, state)
    line2 = Text(no_wrap=True, overflow="ellipsis")
    line2.append(" ")
    exact = meta.collector.syscalls == "exact"
    line2.append(collector_label(meta.collector), style="green" if exact else "yellow")
    line2.append("  │  ", style="dim")
    if state.scope is None:
        line2.append(f"whole tree · {state.running} running")
        if state.stopped:
            line2.append(f" · {state.stopped} stopped", style="bold yellow")
        if state.exited:
            line2.append(f" · {state.exited} exited", style="dim")
    else:
        line2.append("scope: ", style="bold")
        line2.append(Text(visible(state.scope), style="bold cyan"))
        line2.append(" subtree (esc: whole tree)", style="dim")
    if state.paused:
        line2.append("  │  ", style="dim")
        line2.append(
            "⏸ replay paused (n: step)" if state.replay else "⏸ view paused, still collecting",
            style="bold reverse yellow",
        )
    if state.note:
        line2.append("  │  ", style="dim")
        line2.append(Text(visible(state.note), style="bold"))
    if state.outputs:
        line2.append("  │  ", style="dim")
        line2.append(state.outputs, style="cyan")
    if state.snapshot is not None:
        for warning in data_warnings(state.snapshot.diagnostics):
            line2.append("  │  ", style="dim")
            line2.append(f"⚠ {warning}", style="bold red")
    return Text("\n", no_wrap=True, overflow="ellipsis").join([line1, line2])


class StatusHeader(Static):
    """Header: ``show(state)`` on every snapshot or change of view state; ``armed(meta)`` once
    the collector is armed, when it was built with a :class:`Starting`."""

    def __init__(self, meta: Meta | Starting, *, id: str | None = None) -> None:
        if isinstance(meta, Starting):
            text = starting_text(meta)
        else:
            text = header_text(meta, HeaderState())
        super().__init__(text, id=id)
        self._meta = meta
        self._state = HeaderState()

    def quitting(self) -> None:
        """The user quit while the collector was being armed."""
        if isinstance(self._meta, Starting):
            self.update(starting_text(self._meta, quitting=True), layout=False)

    def armed(self, meta: Meta) -> None:
        self._meta = meta
        self.update(header_text(meta, self._state), layout=False)

    def show(self, state: HeaderState) -> None:
        if state != self._state:
            self._state = state
            if isinstance(self._meta, Meta):
                self.update(header_text(self._meta, state), layout=False)
