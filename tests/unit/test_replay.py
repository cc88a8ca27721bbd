"""ReplayCollector: a real recording, played at its own pace, with pause and step."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from denet_tui.collectors.base import CollectorError
from denet_tui.collectors.replay import ReplayCollector

RECORDING = Path(__file__).resolve().parents[1] / "data" / "build-procfs.jsonl"


def _lines() -> list[dict]:
    return [json.loads(line) for line in RECORDING.read_text().splitlines()]


def test_plays_every_snapshot_in_order_then_the_end() -> None:
    lines = _lines()
    recorded = [d["t"] for d in lines if d["kind"] == "snapshot"]
    rc = ReplayCollector(str(RECORDING))
    assert rc.info.name == lines[0]["collector"]["name"]
    assert rc.meta.pid == lines[0]["target"]["pid"]
    played = []
    while not rc.finished:
        played.append(rc.sample().t)
    assert played == recorded
    assert rc.end is not None and rc.end["kind"] == "end"
    assert rc.sample().t == recorded[-1]  # the last one again
    assert rc.due_in() is None
    rc.close()


def test_paces_like_the_recording_and_pauses() -> None:
    t0, t1 = [d["t"] for d in _lines() if d["kind"] == "snapshot"][:2]
    gap = t1 - t0
    rc = ReplayCollector(str(RECORDING))
    rc.start()
    assert rc.due_in() == 0.0
    first = rc.sample()
    assert 0 < rc.due_in() <= gap
    rc.set_paused(True)
    assert rc.paused and rc.due_in() is None
    time.sleep(0.05)
    rc.set_paused(False)
    assert rc.due_in() > gap - 0.05  # time spent paused does not count
    stepped = rc.step()
    assert stepped is not None and stepped.t > first.t
    rc.close()


def test_step_at_the_end_gives_nothing() -> None:
    rc = ReplayCollector(str(RECORDING))
    while not rc.finished:
        rc.sample()
    assert rc.step() is None
    rc.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"kind":"snapshot"}\n', "no meta line first"),
        ("not json\n", "not a JSON line"),
        ("[1]\n", "not a JSON object"),
        ("", "no meta line first"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(CollectorError, match=message):
        ReplayCollector(str(path))


def test_wrong_schema_and_empty_recordings(tmp_path: Path) -> None:
    meta = _lines()[0]
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({**meta, "schema": 99}) + "\n")
    with pytest.raises(CollectorError, match="schema 99"):
        ReplayCollector(str(path))
    path.write_text(json.dumps(meta) + "\n")
    with pytest.raises(CollectorError, match="holds no snapshot"):
        ReplayCollector(str(path))
    path.write_text(json.dumps(meta) + '\n{"kind":"snapshot","t":1}\n')
    with pytest.raises(CollectorError, match=r":2: snapshot record without the field .ts."):
        ReplayCollector(str(path))
    with pytest.raises(CollectorError, match="cannot read"):
        ReplayCollector(str(tmp_path / "missing.jsonl"))


def test_a_recordings_wall_time_is_its_commands_like_time_v() -> None:
    from denet_tui.recording import load

    rec = load(str(RECORDING.with_name("build-ebpf.jsonl")))
    root = next(p for (pid, _), p in rec.processes.items() if pid == rec.last.target.pid)
    assert root.start_ts is not None and root.end_ts is not None
    # The root's start to its end (make), not how long it was watched (from before its exec
    # to the last snapshot).
    assert rec.wall_s == root.end_ts - root.start_ts < rec.end["duration_s"]  # type: ignore[index]
