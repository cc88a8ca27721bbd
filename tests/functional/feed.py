"""The real app fed a real recording, one snapshot at a time: no collector thread, no clock.

Used by the Pilot tests and the snapshot tests, so both see exactly what a user would see after
those snapshots, every time.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from denet_tui.app import DenetApp
from denet_tui.collectors.replay import ReplayCollector
from denet_tui.messages import SnapshotTaken
from denet_tui.model import Snapshot
from denet_tui.session import Session
from denet_tui.target import Target

DATA = Path(__file__).resolve().parents[1] / "data"
EBPF = DATA / "build-ebpf.jsonl"
PROCFS = DATA / "build-procfs.jsonl"


class RecordedCollector:
    """A recording's snapshots, handed to the app by the test; to the app it looks live."""

    def __init__(self, path: Path) -> None:
        replay = ReplayCollector(str(path))
        self.meta = replay.meta
        self.info = replay.info
        self.snapshots: list[Snapshot] = []
        while not replay.finished:
            self.snapshots.append(replay.sample())
        replay.close()

    def start(self, target: Target) -> None:
        """Nothing to arm."""

    def sample(self) -> Snapshot:
        raise AssertionError("the test feeds snapshots itself")

    def close(self) -> None:
        """Nothing to free."""


class FedApp(DenetApp):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.theme = "textual-dark"

    def start_collecting(self) -> None:
        """The test feeds the snapshots (see :func:`feed`)."""


def live_app(path: Path = PROCFS, **session: object) -> FedApp:
    collector = RecordedCollector(path)
    return FedApp(
        Session(
            meta=collector.meta,
            collector=collector,
            target=None,
            interval=collector.meta.interval,
            **session,  # type: ignore[arg-type]
        )
    )


def snapshots(app: DenetApp) -> list[Snapshot]:
    collector = app.session.collector
    assert isinstance(collector, RecordedCollector)
    return collector.snapshots


async def feed(pilot: Pilot, count: int | None = None) -> None:
    """Post the first ``count`` snapshots (all by default) as the collector thread would."""
    await pilot.pause()
    for snap in snapshots(pilot.app)[:count]:
        pilot.app.post_message(SnapshotTaken(snap))
        await pilot.pause()
