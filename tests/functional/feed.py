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
TOUCH = DATA / "touch-ebpf.jsonl"  # a recording with events of every family


class RecordedCollector:
    """A recording's snapshots as a live collector gives them: one per ``sample()``, at once.

    To the app it looks live (it is not a ReplayCollector). Tests either feed the snapshots
    themselves (:class:`FedApp`) or let the app's collector thread sample them.
    """

    def __init__(self, path: Path) -> None:
        replay = ReplayCollector(str(path))
        self.meta = replay.meta
        self.info = replay.info
        self.snapshots: list[Snapshot] = []
        while not replay.finished:
            self.snapshots.append(replay.sample())
        replay.close()
        self.sampled = 0
        self.closed = False

    def start(self, target: Target) -> None:
        """Nothing to arm."""

    def sample(self) -> Snapshot:
        snap = self.snapshots[min(self.sampled, len(self.snapshots) - 1)]
        self.sampled += 1
        return snap

    def close(self) -> None:
        self.closed = True


class FedApp(DenetApp):
    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.theme = "textual-dark"

    def start_collecting(self) -> None:
        """The test feeds the snapshots (see :func:`feed`)."""


def recorded_session(path: Path = PROCFS, **session: object) -> Session:
    collector = RecordedCollector(path)
    options: dict = {"interval": collector.meta.interval, **session}
    return Session(meta=collector.meta, collector=collector, target=None, **options)


def live_app(path: Path = PROCFS, **session: object) -> FedApp:
    """The app as in ``run``/``attach``, fed by the test."""
    return FedApp(recorded_session(path, **session))


def replay_app(path: Path = PROCFS) -> DenetApp:
    """The app as in ``replay``, with its real collector thread."""
    collector = ReplayCollector(str(path))
    app = DenetApp(Session(meta=collector.meta, collector=collector, target=None, interval=1.0))
    app.theme = "textual-dark"
    return app


def snapshots(app: DenetApp) -> list[Snapshot]:
    collector = app.session.collector
    assert isinstance(collector, RecordedCollector)
    return collector.snapshots


async def feed(pilot: Pilot, stop: int | None = None, start: int = 0) -> None:
    """Post snapshots ``start`` to ``stop`` (default: all) as the collector thread would."""
    await pilot.pause()
    for snap in snapshots(pilot.app)[start:stop]:
        pilot.app.post_message(SnapshotTaken(snap))
        await pilot.pause()


async def open_tab(pilot: Pilot, key: str) -> None:
    """Every snapshot fed, then the tab of ``key`` shown (its table focused)."""
    await feed(pilot)
    await pilot.press(key)
    await pilot.pause()
