"""The collector thread: one SnapshotTaken per interval, the end of the command, --duration,
--exit-on-finish, --record, and a collector that fails."""

from __future__ import annotations

import json

import pytest

from denet_tui.app import DenetApp
from denet_tui.messages import CollectionEnded, CollectionFailed, SnapshotTaken
from denet_tui.sinks.jsonl import JsonLinesSink
from denet_tui.widgets.status_header import StatusHeader

from .feed import EBPF, PROCFS, RecordedCollector, recorded_session

SIZE = (100, 30)


async def until_closed(pilot) -> None:
    for _ in range(200):
        if pilot.app.return_code is not None:
            return
        await pilot.pause(0.01)


def threaded(session, *sinks) -> DenetApp:
    app = DenetApp(session, sinks)
    app.theme = "textual-dark"
    return app


@pytest.mark.parametrize("recording", [PROCFS, EBPF], ids=["procfs", "ebpf"])
async def test_the_thread_samples_until_the_command_ends_and_records_it(
    tmp_path, recording
) -> None:
    session = recorded_session(recording, interval=0.01)
    collector = session.collector
    assert isinstance(collector, RecordedCollector)
    path = tmp_path / "rec.jsonl"
    recorder = JsonLinesSink(str(path))
    messages: list = []
    app = threaded(session, recorder)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        ended = [m for m in messages if isinstance(m, CollectionEnded)]
        assert [m.reason for m in ended] == ["exited with code 0"]
        assert app.timeline.snapshot is collector.snapshots[-1]
        assert "exited with code 0" in app.query_one(StatusHeader).render().plain  # type: ignore[union-attr]
        taken = [m for m in messages if isinstance(m, SnapshotTaken)]
        assert 1 <= len(taken) <= len(collector.snapshots)  # stale ones may be replaced
    app.pump.finish()  # as run_tui does once the screen has closed
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    # Every snapshot is recorded, even those the screen skipped.
    assert [d["kind"] for d in lines] == ["meta"] + ["snapshot"] * len(collector.snapshots) + [
        "end"
    ]
    # The command's own elapsed time, as the Summary tab gives it (a trial found only the
    # time it was watched: 0.346 s against the command's 307.6 ms).
    root = [p for d in lines[1:-1] for p in d["processes"] if p["pid"] == d["target"]["pid"]][-1]
    assert not root["alive"]
    if recording is EBPF:
        wall = root["end_ts"] - root["start_ts"]
        assert wall > 0 and lines[-1]["command_wall_s"] == pytest.approx(wall, abs=1e-6)
    else:  # /proc cannot tell when a process ended
        assert root["end_ts"] is None and lines[-1]["command_wall_s"] is None


async def test_duration_closes_the_screen() -> None:
    session = recorded_session(interval=0.01)
    assert isinstance(session.collector, RecordedCollector)
    session.duration = session.collector.snapshots[2].t
    app = threaded(session)
    async with app.run_test(size=SIZE) as pilot:
        await until_closed(pilot)
        assert app.return_code == 0
    assert session.collector.sampled == 3


async def test_exit_on_finish_closes_the_screen_when_the_command_ends() -> None:
    session = recorded_session(interval=0.01, exit_on_finish=True)
    app = threaded(session)
    async with app.run_test(size=SIZE) as pilot:
        await until_closed(pilot)
        assert app.return_code == 0
        assert app.timeline.snapshot is not None and app.timeline.snapshot.target.finished


async def test_a_failing_collector_keeps_the_screen_and_says_why() -> None:
    session = recorded_session(interval=0.01)
    collector = session.collector
    assert isinstance(collector, RecordedCollector)

    def broken():
        if collector.sampled >= 2:
            raise OSError("tracefs went away")
        return RecordedCollector.sample(collector)

    collector.sample = broken  # type: ignore[method-assign]
    messages: list = []
    app = threaded(session)
    async with app.run_test(size=SIZE, message_hook=messages.append) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        (failed,) = [m for m in messages if isinstance(m, CollectionFailed)]
        assert failed.error == "OSError: tracefs went away"
        assert (
            "collector stopped: OSError: tracefs went away"
            in app.query_one(StatusHeader).render().plain
        )  # type: ignore[union-attr]
        assert app.return_code is None  # still open, with the last figures
