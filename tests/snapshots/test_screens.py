"""What the screen looks like, fed from real recordings (tests/data/*.jsonl) at fixed sizes.

``build-ebpf.jsonl`` and ``build-procfs.jsonl`` are real runs of the same small parallel C build
(``tests/data/record.sh``), watched by the eBPF and the /proc collector; ``touch-ebpf.jsonl`` a
script that touches files, runs programs (one missing), sends a signal, acts as root, writes
1 MiB directly to the disk, 100,000 bytes through a unix socket and 50,000 over TCP.
"""

from __future__ import annotations

import pytest
from functional.feed import DATA, EBPF, PROCFS, feed, live_app, snapshots
from textual.pilot import Pilot
from textual.widgets import Input

from denet_tui.widgets.process_tree import ProcessTree

MIDDLE = 4  # snapshots fed: the build is in full swing


async def _middle(pilot: Pilot) -> None:
    await feed(pilot, MIDDLE)


def test_main_80x24(snap_compare) -> None:
    assert snap_compare(live_app(EBPF), terminal_size=(80, 24), run_before=_middle)


def test_main_120x40(snap_compare) -> None:
    """Tall but narrow: the categories leave the syscalls table rows of its own."""
    assert snap_compare(live_app(EBPF), terminal_size=(120, 40), run_before=_middle)


def test_main_160x50(snap_compare) -> None:
    assert snap_compare(live_app(EBPF), terminal_size=(160, 50), run_before=_middle)


def test_scoped_to_a_subtree(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot, MIDDLE)
        tree = pilot.app.query_one(ProcessTree)
        living = {p.pid for p in snapshots(pilot.app)[MIDDLE - 1].processes if p.alive}
        cc = next(n for n in tree.root.children[0].children if n.children and n.data in living)
        tree.move_cursor(cc)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


def test_exited(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot)

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


def test_procfs_sampled_80x24(snap_compare) -> None:
    assert snap_compare(live_app(PROCFS), terminal_size=(80, 24), run_before=_middle)


def test_procfs_sampled_160x50(snap_compare) -> None:
    assert snap_compare(live_app(PROCFS), terminal_size=(160, 50), run_before=_middle)


def test_filtered(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot, MIDDLE)
        await pilot.press("slash")
        pilot.app.query_one(Input).cursor_blink = False
        await pilot.press(*"unit7")
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(100, 30), run_before=run_before)


def test_syscalls_tab(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await _middle(pilot)
        await pilot.press("2")
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


def test_summary_tab(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot)
        await pilot.press("4")
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


def test_time_tab(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot, MIDDLE)
        await pilot.press("5")
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


def test_time_tab_after_the_end(snap_compare) -> None:
    """Once the command has ended, no "last interval" bar (it drew a full bar of 0.00 s)."""

    async def run_before(pilot: Pilot) -> None:
        await feed(pilot)
        await pilot.press("5")
        await pilot.pause()

    assert snap_compare(live_app(EBPF), terminal_size=(120, 36), run_before=run_before)


TOUCH = DATA / "touch-ebpf.jsonl"


@pytest.mark.parametrize(
    "keys",
    [("6",), ("7",), ("7", "f"), ("8",), ("9",), ("9", "c"), ("0",), ("w",), ("d",)],
    ids=[
        "programs",
        "files",
        "files-failures",
        "signals",
        "privileges",
        "capabilities",
        "events",
        "network",
        "disk",
    ],  # fmt: skip
)
def test_what_the_tree_touched(snap_compare, keys: tuple[str, ...]) -> None:
    async def run_before(pilot: Pilot) -> None:
        await feed(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(live_app(TOUCH), terminal_size=(130, 36), run_before=run_before)
