"""What the screen shows must not depend on the terminal's size: driven in a real terminal."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional.tmux import DENET, Tmux, wait_for_file

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
REPO = Path(__file__).resolve().parents[2]


def _resize(tmux: Tmux, width: int, height: int) -> None:
    subprocess.run([*tmux.cmd, "resize-window", "-x", str(width), "-y", str(height)], check=True)
    time.sleep(0.8)


def test_the_syscall_sort_survives_a_resize_and_is_always_marked(tmux: Tmux) -> None:
    tmux.start(f"{DENET} replay {REPO / 'tests/data/build-ebpf.jsonl'}; sleep 30", 160, 40)
    tmux.wait_for("% TIME▼")  # sorted by time at first, and marked
    tmux.keys("Tab")  # the syscall table
    time.sleep(0.3)
    tmux.keys("s")
    tmux.keys("s")  # time → calls → errors
    tmux.wait_for("ERRORS▼")
    for width, height in ((90, 30), (60, 24), (160, 40)):
        _resize(tmux, width, height)
        line = next(line for line in tmux.screen().splitlines() if "SYSCALL" in line)
        header = line[line.index("SYSCALL") :]  # the tree's ▼ (expanded) is left of it
        assert "ERRORS▼" in header, (width, header)
        assert header.count("▼") == 1


def _cpu_range(screen: str) -> tuple[str, str]:
    found = re.search(r"\bCPU\s.*?min (\S+ %)\s+max (\S+ %)", screen)
    assert found, screen
    return found.group(1), found.group(2)


def test_min_and_max_are_over_the_whole_session_at_any_width(tmux: Tmux, tmp_path: Path) -> None:
    # A real recording: a CPU burst in the first half second, then 60 quiet snapshots — more
    # than an 80-column sparkline can show.
    rec = tmp_path / "burst.jsonl"
    burst = "import time; t = time.time()\nwhile time.time() - t < 0.5: pass\ntime.sleep(3.5)"
    subprocess.run(
        [
            str(DENET),
            "run",
            "--json",
            "--out",
            str(rec),
            "--collector",
            "procfs",
            "--interval",
            "0.05",
            "--",
            sys.executable,
            "-c",
            burst,
        ],
        check=True,
        timeout=60,
    )
    tmux.start(f"{DENET} replay {rec}; sleep 30", 160, 40)
    wide = _cpu_range(tmux.wait_for("end of recording", timeout=20))
    assert float(wide[1].split()[0]) > 50  # the burst
    _resize(tmux, 80, 24)
    assert _cpu_range(tmux.screen()) == wide


def test_a_recording_cut_short_plays_what_is_there_and_says_so(tmux: Tmux, tmp_path: Path) -> None:
    whole = (REPO / "tests/data/build-procfs.jsonl").read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(whole[:-100])  # its writer killed mid-line: no end, a partial last line
    rc = tmp_path / "rc"
    tmux.start(f"{DENET} replay {cut}; echo $? > {rc}; sleep 30", 160, 40)
    screen = tmux.wait_for("cut short", timeout=20)
    assert "end of recording (line" in screen
    tmux.keys("q")
    assert wait_for_file(rc) == "0"


def test_a_recording_bad_in_the_middle_says_where_and_exits_2(tmux: Tmux, tmp_path: Path) -> None:
    lines = (REPO / "tests/data/build-procfs.jsonl").read_bytes().split(b"\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join([*lines[:3], b"{not json", *lines[3:]]))
    rc = tmp_path / "rc"
    tmux.start(f"{DENET} replay {bad}; echo $? > {rc}; sleep 30", 160, 40)
    tmux.wait_for("collector stopped", timeout=20)
    tmux.keys("q")
    assert wait_for_file(rc) == "2"
    assert f"denet-tui: {bad}:4: not a JSON line" in tmux.screen()
